"""Shared-memory frames for watching (emurl.vector.frames): a worker process with a real env
publishes its screen; a reader in this process sees exactly its emulator's screen, never a
torn frame; an unwatched worker does not publish; blocks go away on close and when their
process is killed.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from emurl.emulators.process import mp_context
from emurl.vector.frameblock import SHM_DIR
from emurl.vector.frames import (
    JOB_ENV,
    FramePublisher,
    FrameReader,
    PublishFrames,
    frame_name,
    list_publishers,
    publish_frames,
)

GAME = "MiniKart-NintendoDs"
JOB = f"test{os.getpid()}"


def _env_worker(conn, job: str, worker: str) -> None:
    """A worker: MiniKart through the worker hook (publish_frames, the job from $EMURL_FRAMES_JOB);
    on each ("step", n, action) it steps n times and answers with its emulator's screen, the
    publisher's sequence number, the steps and the return so far."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ[JOB_ENV] = job
    import emurl

    env = publish_frames(emurl.make(GAME, obs_type="features"), worker, max_fps=float("inf"),
                         overlay=lambda e, obs, info: {"x": info["x"], "y": info["y"], "ray_distances": obs[:9]})
    assert isinstance(env, PublishFrames)
    env.extra["genome"] = 7
    env.reset(seed=0)
    conn.send("ready")
    while True:
        msg = conn.recv()
        if msg[0] == "close":
            break
        _, n, action = msg
        for _ in range(n):
            env.step(action)
        conn.send((env.unwrapped.emulator.screen().copy(), env.publisher.seq, env.steps, env.total))
    env.close()
    conn.send("closed")


def _flipper(conn, name: str, shape) -> None:
    """Publishes frames of all 0 then all 255, alternately, a thousand a second (30 times a
    real worker's rate), until told to stop. Back to back, with no pause at all, a reader on a
    loaded machine can find no quiet moment to copy a frame within its retries."""
    pub = FramePublisher(name, shape)
    frames = [np.zeros(shape, np.uint8), np.full(shape, 255, np.uint8)]
    conn.send("ready")
    k = 0
    while not conn.poll():
        pub.publish(frames[k & 1], {"k": k, "pad": "x" * (k % 500)})
        k += 1
        time.sleep(0.001)
    pub.close()
    conn.send(k)


def _sleeper(conn, name: str) -> None:
    pub = FramePublisher(name, (8, 8, 3))
    conn.send("ready")
    conn.recv()
    pub.close()


def _start(target, *args):
    ctx = mp_context()
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(child, *args), daemon=True)
    proc.start()
    child.close()
    assert parent.poll(120), "the child did not start"
    assert parent.recv() == "ready"
    return proc, parent


def _end(proc) -> None:
    proc.join(10)
    if proc.is_alive():  # a failed test left it waiting: its block goes with the next listing
        proc.kill()
        proc.join()
    list_publishers(JOB)


def test_worker_frame_equals_its_emulators_screen():
    """Published only while watched; then every step, the frame is the worker's emulator's screen."""
    name = frame_name(JOB, "env0")
    proc, conn = _start(_env_worker, JOB, "env0")
    try:
        [info] = [p for p in list_publishers(JOB) if p.name == name]
        assert info.pid == proc.pid and info.job == JOB and info.worker == "env0"
        conn.send(("step", 2, 1))
        assert conn.recv()[1] == 2  # unwatched: only the frame published at start
        with FrameReader(name) as reader:
            _, _, first = reader.read()  # that frame; the read also watches
            assert first == 2
            conn.send(("step", 5, 1))  # 5 steps of ["A"]
            screen, seq, steps, total = conn.recv()
            assert seq == first + 2 * 5  # watched: a frame per step
            frame, overlay, got = reader.read()
            assert got == seq
            assert frame.shape == screen.shape and frame.dtype == np.uint8
            np.testing.assert_array_equal(frame, screen)
            assert overlay["episode"] == 1 and overlay["step"] == steps == 7 and overlay["genome"] == 7
            assert overlay["buttons"] == ["A"] and overlay["return"] == pytest.approx(total)
            assert len(overlay["rays"]) == len(overlay["ray_distances"]) == 9 and isinstance(overlay["x"], float)
            assert overlay["kart"][:2] == [overlay["x"], overlay["y"]] and len(overlay["checkpoint"]) == 4
            conn.send(("step", 3, 2))
            screen, seq, _, _ = conn.recv()
            frame, overlay, got = reader.read()
            np.testing.assert_array_equal(frame, screen)
            assert got == seq and overlay["step"] == 10 and sorted(overlay["buttons"]) == ["A", "LEFT"]
        conn.send(("close",))
        assert conn.recv() == "closed"
        assert name not in [p.name for p in list_publishers(JOB)]
    finally:
        _end(proc)


def test_reader_never_sees_a_torn_frame():
    name = frame_name(JOB, "flip")
    shape = (192, 256, 3)
    proc, conn = _start(_flipper, name, shape)
    try:
        seen = set()
        seqs = set()
        with FrameReader(name) as reader:
            last = 0
            while len(seqs) < 200:  # 200 different frames, read while the next ones are written
                frame, overlay, seq = reader.read()
                if frame is None:
                    continue
                seqs.add(seq)
                value = frame[0, 0, 0]
                assert (frame == value).all(), "a frame mixed from two publishes"
                assert value == (0 if overlay["k"] % 2 == 0 else 255) and seq == 2 * (overlay["k"] + 1)
                assert seq >= last
                last = seq
                seen.add(int(value))
        conn.send("stop")
        assert conn.recv() > 0
        assert seen == {0, 255}
    finally:
        _end(proc)


def test_killed_publishers_block_is_cleaned_up():
    name = frame_name(JOB, "killed")
    proc, conn = _start(_sleeper, name)
    assert name in [p.name for p in list_publishers(JOB)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert name not in [p.name for p in list_publishers(JOB)]
    assert not os.path.exists(os.path.join(SHM_DIR, name))
    FramePublisher(name, (8, 8, 3)).close()  # the name is free again


def test_publisher_lifetime_and_limits():
    name = frame_name(JOB, "local")
    pub = FramePublisher(name, (4, 6, 3), overlay_capacity=64)
    with pytest.raises(FileExistsError):
        FramePublisher(name, (4, 6, 3))  # a live process publishes under that name
    reader = FrameReader(name)
    assert reader.read() == (None, {}, 0)
    frame = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)  # smaller than the block: fine
    assert pub.publish(frame, {"fitness": np.float32(1.5), "rays": np.ones((2, 2))}) == 2
    got, overlay, seq = reader.read()
    np.testing.assert_array_equal(got, frame)
    assert overlay == {"fitness": 1.5, "rays": [[1.0, 1.0], [1.0, 1.0]]} and seq == 2
    with pytest.raises(ValueError, match="overlay"):
        pub.publish(frame, {"big": "x" * 100})
    with pytest.raises(ValueError, match="uint8"):
        pub.publish(np.zeros((5, 6, 3), np.uint8))
    pub.close()
    pub.close()
    assert reader.closed and not os.path.exists(os.path.join(SHM_DIR, name))
    np.testing.assert_array_equal(reader.read()[0], frame)  # the mapping outlives the unlink
    reader.close()
    with pytest.raises(RuntimeError):
        pub.publish(frame)
    with pytest.raises(FileNotFoundError):
        FrameReader(name)


def test_publish_frames_without_a_job_is_the_env(monkeypatch):
    monkeypatch.delenv(JOB_ENV, raising=False)
    env = object()
    assert publish_frames(env, 0) is env
