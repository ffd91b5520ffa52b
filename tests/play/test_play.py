"""``emurl play`` headless (SDL's dummy video driver) with scripted key events: the movie it
records replays (emurl.movies.replay) to the frames it showed; pause, frame advance,
F5/F7 states and rerecords; the key maps; two players at one keyboard on MiniDoc-Nes; Nintendo
DS screens and touch in a subprocess."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pygame = pytest.importorskip("pygame")

from emurl.emulators import EmulatorWrapper  # noqa: E402
from emurl.emulators.retro import PLAYERS  # noqa: E402
from emurl.errors import EmurlError  # noqa: E402
from emurl.games import load_integration  # noqa: E402
from emurl.movies import load_movie  # noqa: E402
from emurl.movies.replay import replay  # noqa: E402
from emurl.play import KEYMAPS, format_keymap, key_code, key_press, keymap, play, state_path  # noqa: E402
from emurl.play import session as play_session  # noqa: E402

GAME = "Airstriker-Genesis"


@pytest.fixture(autouse=True)
def headless(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")


def sha(a) -> str:
    return hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()


def shown(seen: dict):
    return lambda frame, screen: seen.__setitem__(frame, sha(screen))


def replayed(movie) -> dict[int, str]:
    return {f: sha(s) for f, s in replay(movie, load_integration(movie.game).require_rom())}


def test_play_records_a_movie_that_replays_to_the_same_frames(tmp_path):
    events = key_press("x", 5, 30) + key_press("left", 10, 20) + key_press("up", 50, 10)
    # pause on frame 40, advance two frames, resume on frame 42
    events += key_press("p", 40) + key_press("n", 40) + key_press("period", 41) + key_press("p", 42)
    seen: dict[int, str] = {}
    res = play(GAME, record=tmp_path / "m.emv", fast=True, events=events, max_frames=90, scale=2,
               on_frame=shown(seen), verbose=False)
    assert res.frames == 90 and res.window == (640, 448)
    movie = load_movie(tmp_path / "m.emv")
    assert movie.frames == 90 and movie.game == GAME and movie.start_state == "Level1"
    assert movie.backend == "retro" and movie.metadata["recorded_by"] == "emurl play"
    b = {name: movie.buttons[:, 0, i] for i, name in enumerate(movie.button_names)}
    assert np.flatnonzero(b["B"]).tolist() == list(range(5, 35))       # X is the Genesis B button
    assert np.flatnonzero(b["LEFT"]).tolist() == list(range(10, 30))
    assert np.flatnonzero(b["UP"]).tolist() == list(range(50, 60))
    assert not b["START"].any()
    assert sorted(seen) == list(range(90))
    assert replayed(movie) == seen
    assert len(set(seen.values())) > 60


def test_held_keys_provider_and_stopping_when_paused(tmp_path):
    held = lambda f: {pygame.K_RIGHT} if 3 <= f < 8 else set()  # noqa: E731
    res = play(GAME, record=tmp_path / "m.emv", fast=True, held=held, events=key_press("p", 12),
               max_frames=100, verbose=False)
    assert res.frames == 12  # paused on frame 12 with nothing scripted left to resume
    movie = load_movie(tmp_path / "m.emv")
    right = movie.buttons[:, 0, movie.button_names.index("RIGHT")]
    assert np.flatnonzero(right).tolist() == [3, 4, 5, 6, 7]


def test_f5_f7_states_and_rerecording(tmp_path, monkeypatch):
    # A data folder of its own: the saved state must not show up in other tests' state lists.
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    integ = load_integration(GAME)
    events = key_press("x", 5, 30) + key_press("f5", 20) + key_press("left", 25, 20)
    events += key_press("f7", 40) + key_press("right", 45, 10)   # back to frame 20: the movie is cut there
    seen: dict[int, str] = {}
    res = play(GAME, record=tmp_path / "m.bk2", fast=True, events=events, max_frames=70, on_frame=shown(seen),
               verbose=False)
    slot = state_path(integ, "quicksave", "retro")
    assert res.saved_states == [slot] and res.rerecords == 1
    assert slot == integ.user_state_dir() / "quicksave.state"
    assert slot.read_bytes()[:2] == b"\x1f\x8b"                     # gzip, as stable-retro's states
    assert integ.states()["quicksave"] == slot                      # found where emurl looks
    assert len(integ.load_state_bytes("quicksave")) > 1000
    movie = load_movie(tmp_path / "m.bk2")
    assert movie.frames == 70 and isinstance(movie.start_state, bytes)
    left = movie.buttons[:, 0, movie.button_names.index("LEFT")]
    right = movie.buttons[:, 0, movie.button_names.index("RIGHT")]
    # frames 20-39 were cut; LEFT, still held at F7, stays held until its key-up on frame 45
    assert np.flatnonzero(left).tolist() == list(range(20, 45))
    assert np.flatnonzero(right).tolist() == list(range(45, 55))
    assert replayed(movie) == seen

    # a session from the saved state: the movie carries the (user's, mutable) state's bytes
    res = play(GAME, state="quicksave", record=tmp_path / "q.emv", fast=True, events=[], max_frames=5,
               verbose=False)
    q = load_movie(tmp_path / "q.emv")
    assert q.start_state == gzip.decompress(slot.read_bytes())
    # loading a state made outside the recording is refused (the movie could not follow)
    res = play(GAME, record=tmp_path / "r.emv", fast=True, events=key_press("f7", 3), max_frames=10, verbose=False)
    assert res.rerecords == 0 and load_movie(tmp_path / "r.emv").frames == 10


def test_bad_record_arguments(tmp_path):
    with pytest.raises(EmurlError, match="unknown movie format"):
        play(GAME, record=tmp_path / "m.mp4", fast=True, max_frames=1, verbose=False)
    with pytest.raises(EmurlError, match="no such folder"):
        play(GAME, record=tmp_path / "nowhere" / "m.emv", fast=True, max_frames=1, verbose=False)
    with pytest.raises(EmurlError, match=".dsm starts from power-on"):
        play(GAME, record=tmp_path / "m.dsm", fast=True, max_frames=1, verbose=False)
    with pytest.raises(EmurlError, match="--slot"):
        play(GAME, slot="../x", fast=True, max_frames=1, verbose=False)


@pytest.mark.parametrize("system", sorted(KEYMAPS) + ["PCEngine", "N64"])
def test_every_button_has_its_own_key_and_no_hotkey(system):
    if system == "NintendoDs":
        from emurl.emulators.ds import DS_BUTTONS as buttons
    else:
        import stable_retro

        buttons = stable_retro.get_system_info(system)["buttons"]
    km = keymap(system, buttons)
    assert set(km) == {b for b in buttons if b}
    keys = [k for ks in km.values() for k in ks]
    assert len(keys) == len(set(keys))
    assert not {k for k in keys if k in ("p", "n", "period", "f1", "f5", "f7", "escape")}
    for k in keys:
        key_code(k)
    text = format_keymap(system, buttons)
    assert all(b in text for b in km) and "hotkeys:" in text


@pytest.mark.parametrize("system", sorted(PLAYERS))
def test_two_players_keys_are_disjoint_and_player_1_keeps_its_map(system):
    import stable_retro

    buttons = stable_retro.get_system_info(system)["buttons"]
    one, two = keymap(system, buttons, 0), keymap(system, buttons, 1)
    assert one == keymap(system, buttons)
    assert set(two) == set(one) == {b for b in buttons if b}
    keys1 = {k for ks in one.values() for k in ks}
    keys2 = [k for ks in two.values() for k in ks]
    assert len(keys2) == len(set(keys2)) and not keys1 & set(keys2)
    assert not {k for k in keys2 if k in ("p", "n", "period", "f1", "f5", "f7", "escape")}
    for k in keys2:
        key_code(k)
    text = format_keymap(system, buttons, players=2)
    assert f"{system} player 1 buttons:" in text and f"{system} player 2 buttons:" in text
    with pytest.raises(EmurlError, match="players 1 and 2 only"):
        keymap(system, buttons, 2)


DOC = "MiniDoc-Nes"
CAPSULE = {"x_p1": 0x0305, "x_p2": 0x0385, "rot_p1": 0x0325, "rot_p2": 0x03A5}  # MEMORY.md beside the integration


def test_two_players_each_keys_move_their_own_capsule(tmp_path, monkeypatch):
    opened = []

    def spy(*args, **kwargs):
        emu = open_emulator(*args, **kwargs)
        opened.append(emu)
        return emu

    open_emulator = play_session.open_emulator
    monkeypatch.setattr(play_session, "open_emulator", spy)
    ram: dict[int, dict[str, int]] = {}
    seen: dict[int, str] = {}

    def on_frame(f, screen):
        seen[f] = sha(screen)
        ram[f] = {k: opened[0].read(a, "|u1") for k, a in CAPSULE.items()}

    # the game is playing from frame ~10 (2P_L0_Low is the set-up), both capsules at x = 3
    events = key_press("f", 20, 30)            # player 2's LEFT
    events += key_press("right", 60, 30)       # player 1's RIGHT
    events += key_press("k", 100)              # player 2's A (rotate)
    events += key_press("x", 110)              # player 1's A
    res = play(DOC, state="2P_L0_Low", players=2, record=tmp_path / "two.emv", fast=True, events=events,
               max_frames=120, on_frame=on_frame, verbose=False)
    assert res.frames == 120
    x1 = [ram[f]["x_p1"] for f in range(120)]
    x2 = [ram[f]["x_p2"] for f in range(120)]
    assert x1[19] == x2[19] == 3
    assert x2[55] < 3 and x1[55] == 3            # player 2's keys moved player 2's capsule only
    assert x1[95] > 3 and x2[95] == x2[55]       # and player 1's moved player 1's only
    assert ram[105]["rot_p2"] != ram[99]["rot_p2"] and ram[105]["rot_p1"] == ram[99]["rot_p1"]
    assert ram[115]["rot_p1"] != ram[109]["rot_p1"] and ram[115]["rot_p2"] == ram[105]["rot_p2"]

    movie = load_movie(tmp_path / "two.emv")
    assert movie.players == 2 and movie.buttons.shape == (120, 2, len(movie.button_names))
    col = movie.button_names.index
    assert np.flatnonzero(movie.buttons[:, 1, col("LEFT")]).tolist() == list(range(20, 50))
    assert np.flatnonzero(movie.buttons[:, 0, col("RIGHT")]).tolist() == list(range(60, 90))
    assert np.flatnonzero(movie.buttons[:, 1, col("A")]).tolist() == [100]
    assert np.flatnonzero(movie.buttons[:, 0, col("A")]).tolist() == [110]
    assert not movie.buttons[:, 0, col("LEFT")].any() and not movie.buttons[:, 1, col("RIGHT")].any()
    assert replayed(movie) == seen               # the movie drives both ports as play did


class OnePort(EmulatorWrapper):
    players = 1


def test_two_players_refused_where_the_game_or_the_emulator_has_one(tmp_path, monkeypatch):
    with pytest.raises(EmurlError, match=f"{GAME} is a 1-player game.*--players 2"):
        play(GAME, players=2, fast=True, max_frames=1, verbose=False)
    with pytest.raises(EmurlError, match="key maps for 1 or 2 players"):
        play(DOC, players=3, fast=True, max_frames=1, verbose=False)
    open_emulator = play_session.open_emulator
    monkeypatch.setattr(play_session, "open_emulator", lambda *a, **k: OnePort(open_emulator(*a, **k)))
    with pytest.raises(EmurlError, match=f"{DOC}: the emulator drives 1 controller port"):
        play(DOC, players=2, fast=True, max_frames=1, verbose=False)
    monkeypatch.undo()
    res = play(DOC, players=1, record=tmp_path / "one.emv", fast=True, events=key_press("f", 0, 5), max_frames=5,
               verbose=False)
    assert load_movie(tmp_path / "one.emv").players == 1 and res.frames == 5   # one player: T F G H press nothing
    assert not load_movie(tmp_path / "one.emv").buttons.any()


def test_cli_play_keys_and_a_short_session(tmp_path, capsys):
    from emurl.cli.play import register

    parser = argparse.ArgumentParser(prog="emurl")
    register(parser.add_subparsers(dest="verb"))
    args = parser.parse_args(["play", GAME, "--keys"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "Genesis buttons:" in out and "return" in out and "START" in out and "f5" in out
    args = parser.parse_args(["play", GAME, "--fast", "--max-frames", "30", "--record", str(tmp_path / "c.emv"),
                              "--state", "Level1", "--scale", "1"])
    assert args.func(args) == 0
    assert load_movie(tmp_path / "c.emv").frames == 30
    args = parser.parse_args(["play", DOC, "--keys", "--players", "2"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "Nes player 1 buttons:" in out and "Nes player 2 buttons:" in out
    args = parser.parse_args(["play", GAME, "--players", "2", "--fast", "--max-frames", "1"])
    with pytest.raises(EmurlError, match=GAME):
        args.func(args)
    args = parser.parse_args(["play", GAME, "--keys", "--players", "2"])
    with pytest.raises(EmurlError, match=GAME):
        args.func(args)


DS_SESSION = r"""
import hashlib, json, sys
import numpy as np, pygame
from emurl.play import play, key_press
from emurl.movies import load_movie
from emurl.movies.replay import replay
from emurl.games import load_integration
backend, out = sys.argv[1], sys.argv[2]
h = lambda a: hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()
ev = key_press("x", 10, 20)
# scale 2: the bottom screen starts at y = 2 * 192; a click there is a touch at (x/2, y/2 - 192)
ev += [(30, pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(200, 384 + 100))),
       (33, pygame.event.Event(pygame.MOUSEMOTION, pos=(210, 384 + 110), rel=(10, 10), buttons=(1, 0, 0))),
       (36, pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(210, 384 + 110)))]
seen, shapes = {}, set()
def cb(f, s):
    seen[f] = h(s); shapes.add(s.shape)
res = play("MiniKart-NintendoDs", state=None, record=out, backend=backend, fast=True, events=ev, max_frames=60,
           on_frame=cb, verbose=False)
m = load_movie(out)
rom = load_integration("MiniKart-NintendoDs").require_rom()
rep = {f: h(s) for f, s in replay(m, rom)}
print("RESULT" + json.dumps({"window": res.window, "shapes": [list(s) for s in shapes], "same": rep == seen,
      "touch": None if m.touch is None else m.touch.tolist(), "backend": m.backend,
      "a": m.buttons[:, 0, m.button_names.index("A")].tolist()}))
"""


def _ds(backend: str, tmp_path) -> dict:
    integ = pytest.importorskip("emurl.games").load_integration
    try:
        if integ("MiniKart-NintendoDs").rom_path() is None:
            pytest.skip("MiniKart-NintendoDs has no ROM here")
    except EmurlError as exc:
        pytest.skip(f"MiniKart-NintendoDs is not available: {exc}")
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    proc = subprocess.run([sys.executable, "-c", DS_SESSION, backend, str(tmp_path / "ds.emv")],
                          capture_output=True, text=True, timeout=120, env=env)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT"):
            return json.loads(line[len("RESULT"):])
    raise AssertionError(f"subprocess failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def test_ds_desmume_shows_both_screens_and_clicks_touch(tmp_path):
    pytest.importorskip("desmume.emulator", reason="py-desmume is not installed")
    r = _ds("desmume", tmp_path)
    assert r["backend"] == "desmume" and r["window"] == [512, 768] and r["shapes"] == [[384, 256, 3]]
    assert r["same"]
    touch = r["touch"]
    assert touch[29] == [0, 0, 0] and touch[30:33] == [[100, 50, 1]] * 3 and touch[33:36] == [[105, 55, 1]] * 3
    assert touch[36] == [0, 0, 0]
    assert [i for i, a in enumerate(r["a"]) if a] == list(range(10, 30))


def test_ds_melonds_shows_the_top_screen(tmp_path):
    r = _ds("melonds", tmp_path)
    assert r["backend"] == "melonds" and r["window"] == [512, 384] and r["shapes"] == [[192, 256, 3]]
    assert r["touch"] is None and r["same"]
