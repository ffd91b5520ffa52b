"""`emurl watch` under SDL's dummy video driver, attached to two real MiniKart-NintendoDs workers
(one emulator per process, tests/watch/publisher.py): each tile is its worker's screen, the
overlays are drawn where the game's shapes say, a killed worker shows dead, a closed one ended."""

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pygame
import pytest

from emurl.cli import build_parser, main
from emurl.cli.watch import show
from emurl.games.minikart.features import overlay_shapes
from emurl.vector.frames import JOB_ENV, FrameReader, frame_name, list_publishers
from emurl.watch.overlays import COLOURS, game_of_job, parse_layers
from emurl.watch.viewer import run_viewer
from emurl.watch.viewer_sources import DEAD, ENDED, Sources, label

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
PUBLISHER = Path(__file__).with_name("publisher.py")
GAME = "MiniKart-NintendoDs"
WAIT_S = 120  # a slow, loaded machine: a worker's emulator start and a few steps


def _line(proc: subprocess.Popen, deadline: float, readers=()) -> str:
    """The worker's next stdout line, keeping ``readers`` watching meanwhile."""
    while time.monotonic() < deadline:
        for r in readers:
            r.watch()
        if select.select([proc.stdout], [], [], 0.05)[0]:
            return proc.stdout.readline().strip()
        assert proc.poll() is None, f"publisher exited with {proc.returncode}"
    raise AssertionError("publisher did not answer in time")


@pytest.fixture(scope="module")
def workers():
    """Two MiniKart workers of a job of their own, holding still after publishing 6 watched frames."""
    job = f"viewertest{os.getpid()}"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    procs = [subprocess.Popen([sys.executable, str(PUBLISHER), job, str(w), GAME, "6"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env) for w in range(2)]
    try:
        deadline = time.monotonic() + WAIT_S
        for p in procs:
            assert _line(p, deadline) == "ready"
        readers = [FrameReader(frame_name(job, w)) for w in range(2)]
        for p in procs:
            assert _line(p, deadline, readers).startswith("still")
        for r in readers:
            r.close()
        yield job, procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def _png(path) -> np.ndarray:
    return pygame.surfarray.array3d(pygame.image.load(str(path))).transpose(1, 0, 2)


def _crop(image, rect):
    x, y, w, h = rect
    return image[y:y + h, x:x + w]


def _near_shapes(points: np.ndarray, shapes, tolerance: float) -> np.ndarray:
    """Whether each (x, y) point lies within ``tolerance`` px of a shape's line or point."""
    best = np.full(len(points), np.inf)
    for _, kind, c, _ in shapes:
        a = np.array(c[:2])
        b = np.array(c[2:]) if kind == "line" else a
        ab = b - a
        t = np.clip(((points - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
        best = np.minimum(best, np.linalg.norm(points - (a + t[:, None] * ab), axis=1))
    return best <= tolerance


def test_tiles_are_the_workers_screens_and_overlays_are_where_the_game_says(workers, tmp_path):
    job, _ = workers
    off = run_viewer(job, layers=[], scale=1, frames=3, fps=0, screenshot=tmp_path / "off.png")
    on = run_viewer(job, layers=["rays", "checkpoint"], scale=1, frames=3, fps=0, screenshot=tmp_path / "on.png")
    assert off.names == on.names == [frame_name(job, 0), frame_name(job, 1)]
    assert off.rects == on.rects
    image_off, image_on = _png(tmp_path / "off.png"), _png(tmp_path / "on.png")
    frames = []
    for name, rect in zip(off.names, off.rects):
        with FrameReader(name) as reader:
            frame, overlay, _ = reader.read()
        assert frame.shape == (384, 256, 3) and rect[2:] == (256, 384)
        np.testing.assert_array_equal(_crop(image_off, rect), frame)  # overlays off: the screen itself
        frames.append((frame, overlay))

    for (frame, overlay), rect in zip(frames, on.rects):
        tile_on = _crop(image_on, rect)
        shapes = overlay_shapes(overlay, ["rays", "checkpoint"], frame.shape)
        assert shapes, "the kart is in a race: its rays and checkpoint are drawn"
        changed = np.argwhere((tile_on != frame).any(axis=2))[:, ::-1].astype(float)  # (x, y)
        assert len(changed) > 100
        # every changed pixel is on a shape: lines 1 px wide, points of radius 2, ends rounded to pixels
        assert _near_shapes(changed, shapes, 3.0).all()
        # and each long ray is drawn: its middle where its screen shows it
        rays = [c for layer, kind, c, clip in shapes if layer == "rays" and kind == "line"
                and np.hypot(c[2] - c[0], c[3] - c[1]) > 12
                and clip[0] <= (c[0] + c[2]) / 2 < clip[0] + clip[2]
                and clip[1] <= (c[1] + c[3]) / 2 < clip[1] + clip[3]]
        assert rays
        for c in rays:  # the rays' colour within a pixel of the middle (a drawn line steps by whole pixels)
            mx, my = round((c[0] + c[2]) / 2), round((c[1] + c[3]) / 2)
            assert (tile_on[my - 1:my + 2, mx - 1:mx + 2] == COLOURS["rays"]).all(axis=2).any(), c


def test_cli_watch_with_every_overlay_draws_more(workers, tmp_path, capsys):
    job, _ = workers
    assert main(["watch", job, "--frames", "2", "--fps", "0", "--scale", "1", "--overlays", "all",
                 "--screenshot", str(tmp_path / "all.png")]) == 0
    assert "of 2 tiles" in capsys.readouterr().out
    assert main(["watch", job, "--frames", "2", "--fps", "0", "--scale", "1", "--workers", "1",
                 "--screenshot", str(tmp_path / "one.png")]) == 0
    assert "of 1 tiles" in capsys.readouterr().out
    assert main(["watch", job, "--overlays", "lasers"]) == 2  # one error line, no window
    assert "unknown lasers" in capsys.readouterr().err
    assert parse_layers("all") == ["rays", "checkpoint", "vars", "buttons", "walls", "placement"]


def test_a_killed_worker_shows_dead_and_a_closed_one_ended(workers):
    job, procs = workers
    sources = Sources(job, rescan=0)
    try:
        tiles = sources.poll()
        assert [t.worker for t in tiles] == ["0", "1"] and all(t.frame is not None for t in tiles)
        procs[1].send_signal(signal.SIGKILL)
        procs[1].wait()
        procs[0].stdin.close()  # the worker closes its env: its block is marked closed and unlinked
        procs[0].wait(timeout=60)
        tiles = sources.poll()
        states = {t.worker: t.state for t in tiles}
        assert states == {"0": ENDED, "1": DEAD}
        assert label(tiles[1])[1].startswith("DEAD")
        assert all(t.frame is not None for t in tiles)  # their last screens stay shown
        assert list_publishers(job) == []  # the killed worker's block was cleaned up
    finally:
        sources.close()


def test_show_makes_workers_publish_and_prints_the_watch_command(monkeypatch, capsys):
    monkeypatch.setenv(JOB_ENV, "before")  # restored after the test
    command = show("MiniKart-NintendoDs__ppo__0__17", workers=2)
    assert command == "emurl watch MiniKart-NintendoDs__ppo__0__17 --workers 0,1"
    assert os.environ[JOB_ENV] == "MiniKart-NintendoDs__ppo__0__17"
    assert show("MiniKart-NintendoDs__neat__0__*", tiles=4, publish=False) == \
        "emurl watch 'MiniKart-NintendoDs__neat__0__*' --tiles 4"
    assert os.environ[JOB_ENV] == "MiniKart-NintendoDs__ppo__0__17"
    assert "watch it live: emurl watch" in capsys.readouterr().out
    parser = build_parser()
    assert parser.parse_args(["train", "--show", "2"]).show == 2
    assert parser.parse_args(["selfplay", "--show", "1"]).show == 1
    assert parser.parse_args(["neat", "--show", "4"]).show == 4 and parser.parse_args(["neat", "--watch"]).watch
    assert parser.parse_args(["eval", "runs/x", "--show"]).show is True
    # the viewer finds the game of a job named as runs are, for workers whose overlay does not name it
    assert game_of_job("MiniKart_NintendoDs__neat__0__1796434707") == GAME and game_of_job("demo") is None
