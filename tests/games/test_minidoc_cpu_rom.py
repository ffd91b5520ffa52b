"""MiniDoc-Nes's CPU player 2 in the ROM (issue 17 item 4) on the real emulator (FCEUmm through
stable-retro): the menu's "P2 CPU" start state plays P2 with no input from Python; for each
of its decisions (0x03A8-0x03AD, MEMORY.md) the column, rotation and tree score equal the
Python tree player's (emurl.train.distill.tree.Tree.act with the shipped tree on
emurl.games.drmario.tree_features and placement.search) on the board and capsule read from
RAM at the capsule's first frame under control (also the decisions it worked out ahead, for the
board it expected), and the capsule locks where it was sent.

One emulator per process: every test closes the one it opened (the ``emu`` fixture).
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import pytest

from emurl.emulators import open_emulator
from emurl.games import load_integration
from emurl.games.drmario.greedy import lock
from emurl.games.drmario.placement import Falling, search
from emurl.games.drmario.tree_features import placement_features
from emurl.train.distill.tree import Tree

GAME = "MiniDoc-Nes"
TREE = Path(__file__).resolve().parents[2] / "homebrew" / "minidoc" / "tree" / "tree.json"
MODE, PLAYING, SETUP = 0x0046, 4, 2
# P2's block (MEMORY.md): colours, x, y, state, gravity, das, speed counter, rotation, capsules placed
LEFT2, RIGHT2, X2, Y2, STATE2, GRAVITY2, DAS2, CTR2, ROT2, PLACED2 = (
    0x0381, 0x0382, 0x0385, 0x0386, 0x0387, 0x038F, 0x038C, 0x0392, 0x03A5, 0x03A7)
HELD2 = 0x00F8
CPU_COL, CPU_ROT, CPU_SCORE, CPU_COUNT, CPU_FRAMES, CPU_PIECE, CPU_ON, LOOPS = range(0x03A8, 0x03B0)


@pytest.fixture(scope="module")
def integ():
    return load_integration(GAME)


@pytest.fixture
def emu(integ):
    e = open_emulator(integ.require_rom(), integ.system, "retro")
    yield e
    e.close()


def play(emu, integ, seed: int, gravity: int | None = None, frames: int = 3000) -> dict:
    """One game from the P2-CPU start state with RNG bytes ``seed`` (P1 presses nothing), at
    P2 ``gravity`` frames per row if given. Returns the CPU's decisions, the Python player's
    choices and where each capsule locked."""
    tree = Tree.load(TREE)
    rd = lambda a: emu.read_bytes(a, 1)[0]  # noqa: E731
    emu.load_state(integ.load_state_bytes("2PCPU_L0_Low", "retro"))
    assert rd(MODE) == SETUP
    emu.write(0x0017, "<u2", seed)  # the layout and capsules (MEMORY.md: the layout moment)
    for _ in range(60):
        if rd(MODE) == PLAYING:
            break
        emu.step()
    assert rd(MODE) == PLAYING and rd(CPU_ON) == 1
    if gravity is not None:
        emu.write(GRAVITY2, "|u1", gravity)
    want, got, landed, spent = {}, {}, {}, []
    count, piece = rd(CPU_COUNT), None
    # where each capsule locks: the cells its lock filled, between the last read with it under
    # control and the first with the capsule count one more (a capsule still moves on its
    # lock frame, before gravity locks it). From complete reads only: a read after a frame
    # whose game logic ran past the NMI (a lag frame: MiniDoc's lock and clear frames can
    # take two) may show P2's block half copied back; it was complete when the next frame
    # starts a new iteration (0x03AF changes).
    held, before, colours, locked_at = None, None, {}, {}
    for _ in range(frames):
        if rd(MODE) != PLAYING:
            break
        placed, loops = rd(PLACED2), rd(LOOPS)
        if held is not None and loops != held[-1]:
            if before is not None and held[0] == before[0] + 1 and before[0] in colours:
                locked_at[before[0]] = lock_placements(before[2], held[2], *colours[before[0]])
                before = None
            if held[1] == 0:
                before = held
        held = (placed, rd(STATE2), np.frombuffer(emu.read_bytes(0x0500, 128), np.uint8).copy(), loops)
        if rd(STATE2) == 0 and placed != piece:
            # the capsule's first frame under control (its block is complete once 0x03A7, its
            # last byte, has changed): what the Python player sees
            piece = placed
            tiles = np.frombuffer(emu.read_bytes(0x0500, 128), np.uint8).copy()
            falling = Falling(rd(X2), rd(Y2), rd(ROT2) & 3, rd(CTR2), rd(GRAVITY2), rd(HELD2), rd(DAS2))
            x = placement_features(tiles, rd(LEFT2), rd(RIGHT2))
            best = tree.act(x, search(tiles, falling).mask)
            want[placed] = (best, tree.score_one(x[best]))
            colours[placed] = (rd(LEFT2), rd(RIGHT2))
        if rd(CPU_COUNT) != count:
            count = rd(CPU_COUNT)
            got[rd(CPU_PIECE)] = (rd(CPU_COL) * 4 + rd(CPU_ROT), rd(CPU_SCORE))
            spent.append(rd(CPU_FRAMES))
        emu.step()
    return {"want": want, "got": got, "landed": locked_at, "frames": spent}


def lock_placements(before: np.ndarray, after: np.ndarray, left: int, right: int) -> set[tuple[int, int]]:
    """The placements ``(column, rotation)`` a capsule of colours ``left``, ``right`` may have
    locked on: those whose lock (:func:`emurl.games.drmario.greedy.lock`, as rules.c writes
    it) fills the playfield cells that filled (0x0500, row 0 the top), in the same colours (a
    tile's low nibble, kept while matched cells flash; MEMORY.md). Two placements when both
    halves have one colour."""
    filled = np.flatnonzero((before == 0xFF) & (after != 0xFF))
    new = {int(i): int(after[i]) & 0x0F for i in filled}
    found = set()
    # the anchor (the left or lower half) is one of the filled cells
    for x, y, rot in product({int(i) % 8 for i in filled}, {15 - int(i) // 8 for i in filled}, range(4)):
        if rot % 2 == 0 and x == 7:
            continue
        locked = np.array(lock(before, x, y, rot, left, right), np.uint8).ravel()
        if {int(i): int(locked[i]) & 0x0F for i in np.flatnonzero(locked != before)} == new:
            found.add((x, rot))
    return found


def test_cpu_decides_as_the_python_tree_player_and_lands_there(emu, integ):
    decisions, spent = 0, []
    # low speed (the start state's), then medium and high: the CPU reads the gravity (0x038F)
    for seed, gravity in ((0x0000, None), (0x1D2C, None), (0xBEEF, 25), (0x0F0F, 15), (0x7A31, 15)):
        game = play(emu, integ, seed, gravity)
        want, got, landed = game["want"], game["got"], game["landed"]
        assert len(got) >= 5, f"only {len(got)} decisions"
        for piece, decision in got.items():
            assert decision == want[piece], f"capsule {piece}: ROM {decision}, Python {want[piece]}"
            if piece in landed:
                assert divmod(decision[0], 4) in landed[piece], \
                    f"seed {seed:#x}: capsule {piece} locked at {landed[piece]}, not {divmod(decision[0], 4)}"
        assert sum(p in landed for p in got) >= len(got) - 1  # every capsule but maybe the last locked
        assert set(got) >= set(want) - {max(want)}  # a decision for every capsule (the last may be cut off)
        decisions += len(got)
        spent += game["frames"]
    assert decisions >= 50
    assert max(spent) < 60  # decided while the capsule is still near the top (40, 25 or 15 frames a row)
    assert spent.count(0) >= 3  # some worked out ahead, while the capsule before was still falling (4 of 89 here)
