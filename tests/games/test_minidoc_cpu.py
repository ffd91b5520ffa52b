"""MiniDoc's in-ROM CPU player in C (homebrew/minidoc/src/cpu.c, features.c, search.c; issue 17
item 4) against the Python tree player, compiled for the host with gcc and called through
ctypes: on recorded real MiniDoc-Nes boards (tests/games/data/minidoc_cpu_states.npz, from
homebrew/minidoc/tools/record_states.py) all 23 features of all 32 placements
(emurl.games.drmario.tree_features), the reachable placements (emurl.games.drmario.placement.search)
and the chosen placement and its score (emurl.train.distill.tree.Tree.act with the shipped tree,
homebrew/minidoc/tree/tree.json) equal the Python ones."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from emurl.games.drmario.placement import Falling, fits_table, search
from emurl.games.drmario.tree_features import N_FEATURES, placement_features
from emurl.train.distill.tree import Tree

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "homebrew" / "minidoc" / "src"
TREE = ROOT / "homebrew" / "minidoc" / "tree"
STATES = Path(__file__).parent / "data" / "minidoc_cpu_states.npz"
U8P = ctypes.POINTER(ctypes.c_ubyte)
CPU_SOURCES = ("cpu.c", "features.c", "search.c")   # the CPU player's C, as build.sh compiles it


@pytest.fixture(scope="module")
def cpu(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed: the CPU player's C is compiled for the host with it")
    lib = tmp_path_factory.mktemp("cpu") / "cpu.so"
    subprocess.run(["gcc", "-O1", "-Wall", "-Werror", "-shared", "-fPIC", "-DCPU_HOST", "-o", str(lib),
                    *(str(SRC / name) for name in CPU_SOURCES), str(TREE / "tree.c")], check=True)
    so = ctypes.CDLL(str(lib))
    so.cpu_host_choose.restype = ctypes.c_ubyte
    return so


@pytest.fixture(scope="module")
def states():
    d = np.load(STATES)
    return d["tiles"], d["capsule"], d["falling"]


def _buf(a: np.ndarray):
    a = np.ascontiguousarray(a, np.uint8)
    return a, a.ctypes.data_as(U8P)


def c_features(cpu, tiles, first, second) -> np.ndarray:
    out = np.zeros((32, N_FEATURES), np.uint8)
    t, tp = _buf(tiles)
    cpu.cpu_host_features(tp, int(first), int(second), out.ctypes.data_as(U8P))
    return out


def c_mask(cpu, tiles, f: Falling) -> np.ndarray:
    out = np.zeros(32, np.uint8)
    t, tp = _buf(tiles)
    cpu.cpu_host_mask(tp, f.x, f.y, f.rotation, f.speed_counter, f.gravity, f.held, f.das, out.ctypes.data_as(U8P))
    return out.astype(bool)


def c_choose(cpu, tiles, first, second, f: Falling) -> tuple[int, int]:
    score = ctypes.c_ubyte()
    t, tp = _buf(tiles)
    i = cpu.cpu_host_choose(tp, int(first), int(second), f.x, f.y, f.rotation, f.speed_counter, f.gravity, f.held,
                            f.das, ctypes.byref(score))
    return int(i), int(score.value)


def _falling(row) -> Falling:
    return Falling(*(int(v) for v in row))


def _random_falling(rng, tiles) -> Falling:
    """A capsule somewhere it fits on this board, at any gravity (1 to 40 frames a row),
    speed counter, held buttons and das: the search from the middle of a fall (tucks under
    overhangs, locks during taps, the gravity step in either frame of a tap)."""
    gravity = int(rng.choice([1, 2, 3, 8, 15, 25, 40]))
    fits = fits_table(tiles)
    spots = [(x, y, r) for y in range(16) for x in range(8) for r in range(4) if fits[y][x][r]]
    x, y, r = spots[rng.integers(len(spots))]
    held = int(rng.choice([0, 0, 0x04, 0x02, 0x01, 0x80, 0x40, 0x82]))
    return Falling(x, y, r, int(rng.integers(gravity)), gravity, held, int(rng.integers(16)))


def test_recorded_states_are_many_and_real(states):
    tiles, capsule, falling = states
    assert len(tiles) >= 1000
    assert (capsule <= 2).all() and set(np.unique(falling[:, 4])) == {40, 25}  # low and medium speed games
    assert (tiles != 0xFF).sum(axis=1).max() > 40  # some crowded boards among them


def test_features_equal_the_python_ones(cpu, states):
    tiles, capsule, _ = states
    for i, (t, (a, b)) in enumerate(zip(tiles, capsule)):
        want = placement_features(t, a, b)
        got = c_features(cpu, t, a, b)
        if not np.array_equal(got, want):
            bad = np.argwhere(got != want)
            raise AssertionError(f"state {i}: first difference placement {bad[0][0]}, feature {bad[0][1]}: "
                                 f"C {got[tuple(bad[0])]} Python {want[tuple(bad[0])]}")


def test_reachable_placements_equal_the_planners(cpu, states):
    tiles, _, falling = states
    rng = np.random.default_rng(17)
    for i, (t, row) in enumerate(zip(tiles, falling)):
        for f in (_falling(row), _random_falling(rng, t)):
            want = search(t, f).mask
            got = c_mask(cpu, t, f)
            assert np.array_equal(got, want), f"state {i} {f}: C {np.flatnonzero(got)} Python {np.flatnonzero(want)}"


def test_choice_equals_the_python_tree_players(cpu, states):
    tiles, capsule, falling = states
    tree = Tree.load(TREE / "tree.json")
    choices = set()
    for i, (t, (a, b), row) in enumerate(zip(tiles, capsule, falling)):
        f = _falling(row)
        x = placement_features(t, a, b)
        want = tree.act(x, search(t, f).mask)
        got, score = c_choose(cpu, t, a, b, f)
        assert (got, score) == (want, tree.score_one(x[want])), f"state {i}"
        choices.add(want)
    assert len(choices) >= 10  # not one placement every time
