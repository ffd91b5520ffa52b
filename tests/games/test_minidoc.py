"""MiniDoc-Nes, our NES versus capsule game (homebrew/minidoc/), on the real emulator (FCEUmm
through stable-retro): the ROM rebuilds to the committed SHA-1, the menus reach a
two-player game from power-on, each controller port moves its own player, determinism,
savestates, virus layouts from the RNG bytes, clears, a win and garbage between players.

One emulator per process: every test closes the one it opened (the ``emu`` fixture).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from homebrew import rebuild

from emurl.emulators import open_emulator
from emurl.games import load_integration
from emurl.games.integration import sha1_of_rom
from emurl.states.scripts import load_scripts, run_script

GAME = "MiniDoc-Nes"
REPO = Path(__file__).resolve().parents[2]
P2 = 0x80  # P2's per-player bytes are P1's + 0x80 (playfield + 0x100), as in Dr. Mario
MODE, PLAYING, GAME_OVER, SETUP = 0x0046, 4, 7, 2


@pytest.fixture(scope="module")
def integ():
    return load_integration(GAME)


@pytest.fixture
def emu(integ):
    e = open_emulator(integ.require_rom(), integ.system, "retro")
    yield e
    e.close()


def mask(emu, *names) -> np.ndarray:
    m = np.zeros(len(emu.buttons), np.uint8)
    for n in names:
        m[emu.buttons.index(n)] = 1
    return m


def press(emu, port: int, *names, frames: int = 1, gap: int = 1) -> None:
    """Hold ``names`` on controller ``port`` (0 or 1) for ``frames``, then release ``gap`` frames."""
    emu.set_buttons(mask(emu, *names), port)
    emu.step(frames)
    emu.set_buttons(mask(emu), port)
    emu.step(gap)


def run_until(emu, cond, timeout: int = 2000) -> int:
    for n in range(timeout):
        if cond():
            return n
        emu.step()
    raise AssertionError(f"not reached within {timeout} frames")


def field(emu, p: int) -> np.ndarray:
    return np.frombuffer(emu.read_bytes(0x0400 + 0x100 * p, 128), np.uint8).reshape(16, 8)


def bcd(v: int) -> int:
    return (v >> 4) * 10 + (v & 0x0F)


def start(emu, integ, state: str) -> None:
    """Load a start state (mode 2: the layout not drawn yet) and run to the first playing frame."""
    emu.load_state(integ.load_state_bytes(state, "retro"))
    assert emu.read(MODE, "|u1") == SETUP
    run_until(emu, lambda: emu.read(MODE, "|u1") == PLAYING, 60)


def ram(emu) -> bytes:
    return emu.read_bytes(0, 0x800)


@pytest.mark.skipif(shutil.which("cc65") is None or shutil.which("ld65") is None,
                    reason="no cc65 (apt-get install cc65)")
def test_rom_rebuilds_to_the_committed_sha1(tmp_path):
    rom, built = rebuild("minidoc", "minidoc.nes", tmp_path / "build")
    committed = REPO / "src" / "emurl" / "games" / "data" / GAME / "rom.nes"
    assert built == hashlib.sha1(committed.read_bytes()).hexdigest()
    # rom.sha holds the SHA-1 as stable-retro computes it: without the 16-byte iNES header
    assert sha1_of_rom(str(rom)) in (committed.parent / "rom.sha").read_text().split()


def test_integration_says_two_players(integ):
    assert integ.players == 2 and integ.system == "Nes"
    assert {"2P_L0_Low", "2P_L5_Med", "1P_L0_Low"} <= set(load_scripts(integ))
    assert integ.rom_path().endswith("rom.nes")


def test_boots_through_the_menus_to_a_two_player_game(emu, integ):
    v = integ.variables
    frames = run_script(emu, load_scripts(integ)["2P_L5_Med"], v)
    assert frames < 100 and v["mode"].read(emu) == SETUP
    run_until(emu, lambda: v["mode"].read(emu) == PLAYING, 60)
    assert v["players"].read(emu) == 2
    for p in ("p1", "p2"):
        assert v[f"level_{p}"].read(emu) == 5 and v[f"viruses_{p}"].read(emu) == 24
        assert (v[f"capsule_x_{p}"].read(emu), v[f"capsule_y_{p}"].read(emu), v[f"rotation_{p}"].read(emu)) == (3, 15, 0)
    assert emu.read(0x030B, "|u1") == 1  # speed: med


def test_each_port_moves_its_own_player(emu, integ):
    start(emu, integ, "2P_L0_Low")
    x = lambda p: emu.read(0x0305 + P2 * p, "|u1")  # noqa: E731
    rot = lambda p: emu.read(0x0325 + P2 * p, "|u1")  # noqa: E731
    press(emu, 1, "RIGHT")
    assert (x(0), x(1)) == (3, 4)
    press(emu, 0, "LEFT")
    assert (x(0), x(1)) == (2, 4)
    press(emu, 1, "A")  # clockwise: Dr. Mario's rotation goes 0 -> 3
    assert (rot(0), rot(1)) == (0, 3)
    press(emu, 0, "B")
    assert (rot(0), rot(1)) == (1, 3)
    y0 = emu.read(0x0306, "|u1"), emu.read(0x0386, "|u1")
    press(emu, 0, "DOWN", frames=8)
    assert emu.read(0x0306, "|u1") < y0[0] and emu.read(0x0386, "|u1") == y0[1]


def _random_inputs(emu, seed: int, steps: int):
    rnd = np.random.default_rng(seed)
    combos = [(), ("LEFT",), ("RIGHT",), ("DOWN",), ("A",), ("B",), ("DOWN", "LEFT"), ("DOWN", "RIGHT")]
    return [[mask(emu, *combos[k]) for k in rnd.integers(0, len(combos), 2)] for _ in range(steps)]


def _play(emu, inputs, frames_each: int = 3) -> None:
    for m0, m1 in inputs:
        emu.set_buttons(m0, 0)
        emu.set_buttons(m1, 1)
        emu.step(frames_each)


def test_same_inputs_same_ram_and_savestate_round_trip(emu, integ):
    inputs = _random_inputs(emu, 7, 300)
    state = integ.load_state_bytes("2P_L0_Low", "retro")
    emu.load_state(state)
    _play(emu, inputs)
    first = ram(emu)
    emu.load_state(state)
    _play(emu, inputs[:150])
    middle = emu.save_state()
    _play(emu, inputs[150:])
    assert ram(emu) == first
    screen = emu.screen().copy()
    emu.load_state(middle)
    _play(emu, inputs[150:])
    assert ram(emu) == first and np.array_equal(emu.screen(), screen)
    assert first[0x0327] > 0 and first[0x03A7] > 0  # both players placed capsules


@pytest.mark.parametrize("state,level,players", [("1P_L0_Low", 0, 1), ("2P_L0_Low", 0, 2), ("2P_L5_Med", 5, 2)])
def test_virus_count_at_the_start(emu, integ, state, level, players):
    start(emu, integ, state)
    for p in range(players):
        f = field(emu, p)
        viruses = int(((f >> 4) == 0xD).sum())
        assert viruses == 4 * (level + 1) == bcd(emu.read(0x0324 + P2 * p, "|u1"))
        assert set(np.unique(f[(f >> 4) == 0xD] & 0x0F)) == {0, 1, 2}  # yellow, red, blue
        assert ((f >> 4) == 0xD)[:6].sum() == 0  # level 0-14: none in the top 6 rows
        assert (f[(f >> 4) != 0xD] == 0xFF).all()  # nothing else yet
    if players == 1:
        assert (field(emu, 1) == 0xFF).all()


def _layout(emu, integ, state: str, rng: tuple[int, int]) -> bytes:
    emu.load_state(integ.load_state_bytes(state, "retro"))
    emu.write(0x0017, "|u1", rng[0])
    emu.write(0x0018, "|u1", rng[1])
    run_until(emu, lambda: emu.read(MODE, "|u1") == PLAYING, 60)
    return emu.read_bytes(0x0400, 128) + emu.read_bytes(0x0500, 128) + emu.read_bytes(0x0780, 128)


def test_rng_bytes_before_the_layout_moment_decide_the_layout(emu, integ):
    a = _layout(emu, integ, "2P_L5_Med", (0x12, 0x34))
    assert _layout(emu, integ, "2P_L5_Med", (0x12, 0x34)) == a
    layouts = {_layout(emu, integ, "2P_L5_Med", (s, (s * 37) & 0xFF)) for s in range(1, 21)}
    assert len(layouts) == 20
    assert a not in layouts or (0x12, 0x34) in [(s, (s * 37) & 0xFF) for s in range(1, 21)]


def _set_field(emu, p: int, cells: dict) -> None:
    base = 0x0400 + 0x100 * p
    for i in range(128):
        emu.write(base + i, "|u1", 0xFF)
    for (r, c), tile in cells.items():
        emu.write(base + r * 8 + c, "|u1", tile)


def _drop_vertical_at_column_0(emu, port: int) -> None:
    """Move the falling capsule to column 0, stand it up (A) and hold DOWN until it lands."""
    for _ in range(3):
        press(emu, port, "LEFT")
    press(emu, port, "A")
    press(emu, port, "DOWN", frames=40, gap=0)


def test_a_vertical_run_of_four_clears_and_the_last_virus_wins(emu, integ):
    start(emu, integ, "1P_L0_Low")
    _set_field(emu, 0, {(13, 0): 0xD1, (14, 0): 0xD1, (15, 0): 0xD1})  # three red viruses
    emu.write(0x0301, "|u1", 1)
    emu.write(0x0302, "|u1", 1)
    _drop_vertical_at_column_0(emu, 0)
    run_until(emu, lambda: emu.read(MODE, "|u1") == GAME_OVER, 200)
    assert emu.read(0x0055, "|u1") == 1 and emu.read(0x0324, "|u1") == 0
    assert emu.read(0x031E, "|u1") == 1  # victories
    f = field(emu, 0)
    assert (f[:, 0] == 0xFF).all()  # the viruses and the whole capsule went


def test_two_lines_at_once_send_two_halves_to_the_opponent(emu, integ):
    start(emu, integ, "2P_L0_Low")
    red = 0xD1
    _set_field(emu, 0, {(14, 0): red, (15, 0): red, (13, 1): red, (13, 2): red, (13, 3): red, (15, 7): 0xD0})
    emu.write(0x0301, "|u1", 1)
    emu.write(0x0302, "|u1", 1)
    _drop_vertical_at_column_0(emu, 0)
    run_until(emu, lambda: emu.read(0x038A, "|u1") == 2, 200)  # P2's pending garbage
    f = field(emu, 0)
    assert int(((f >> 4) == 0xD).sum()) == 1 and bcd(emu.read(0x0324, "|u1")) == 1
    before = int(((field(emu, 1) >> 4) == 0x8).sum())
    emu.set_buttons(mask(emu, "DOWN"), 1)  # P2 lands its capsule; the garbage falls in
    run_until(emu, lambda: int(((field(emu, 1) >> 4) == 0x8).sum()) >= before + 2, 400)
    emu.set_buttons(mask(emu), 1)
    assert emu.read(0x038A, "|u1") == 0 and emu.read(MODE, "|u1") == PLAYING


def test_unsupported_halves_fall_and_chain(emu, integ):
    """A capsule red (bottom) / blue (top) on three red viruses in column 0: the reds clear,
    the blue half, now single, falls to the bottom row beside three blue viruses and
    clears them: a chain of two runs in one move, which sends two halves to P2."""
    start(emu, integ, "2P_L0_Low")
    cells = {(13, 0): 0xD1, (14, 0): 0xD1, (15, 0): 0xD1, (15, 1): 0xD2, (15, 2): 0xD2, (15, 3): 0xD2,
             (10, 7): 0xD0}
    _set_field(emu, 0, cells)
    emu.write(0x0301, "|u1", 1)  # first colour red
    emu.write(0x0302, "|u1", 2)  # second colour blue
    for _ in range(3):
        press(emu, 0, "LEFT")
    press(emu, 0, "B")  # rotation 1: first colour at the bottom, second on top
    assert emu.read(0x0325, "|u1") == 1
    press(emu, 0, "DOWN", frames=40, gap=0)
    run_until(emu, lambda: emu.read(0x030E, "|u1") == 2, 300)  # a second clear step in this move
    run_until(emu, lambda: emu.read(0x038A, "|u1") == 2, 100)
    f = field(emu, 0)
    assert int(((f >> 4) == 0xD).sum()) == 1 and (f[12:, :4] == 0xFF).all()
