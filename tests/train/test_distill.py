"""Distillation (issue 17 item 3): the 6502 features, the DAgger loop on MiniDoc-Nes with the
rule-based teacher through ``emurl distill``, and the exports (C through gcc and ctypes, ca65
through ca65/ld65 and a 6502 interpreter) against the Python tree on recorded states."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emurl.cli import main
from emurl.games.drmario.tree_features import N_FEATURES, NAMES, placement_features
from emurl.train.distill.export import FEATURES_BASE, _sizes, assemble, run_6502, to_c, to_ca65
from emurl.train.distill.tree import Tree, fit_tree, placement_rows

EMPTY = 0xFF
F = {name: i for i, name in enumerate(NAMES)}


def _board(cells: dict[tuple[int, int], int]) -> bytes:
    """128 playfield bytes, ``cells`` {(row from the top, column): tile}."""
    b = bytearray([EMPTY] * 128)
    for (r, c), t in cells.items():
        b[r * 8 + c] = t
    return bytes(b)


def test_features_of_a_known_board():
    # column 0: three yellow viruses (0xD0) at the bottom; column 1: a red virus on the floor
    pf = _board({(15, 0): 0xD0, (14, 0): 0xD0, (13, 0): 0xD0, (15, 1): 0xD1, (12, 3): 0xB2})
    x = placement_features(pf, 0, 0)  # a yellow-yellow capsule
    v = x[0 * 4 + 1]  # column 0, vertical
    assert (v[F["vert"]], v[F["land"]], v[F["va"]], v[F["run"]], v[F["bury_a"]], v[F["top"]]) == (1, 3, 5, 5, 0, 5)
    h = x[0 * 4 + 0]  # column 0-1 horizontal: lands on row 3 (column 0's top), one cell gap over column 1's virus
    assert (h[F["land"]], h[F["gap"]], h[F["va"]], h[F["vb"]], h[F["ha"]]) == (3, 2, 4, 1, 2)
    assert not x[7 * 4 + 0].any() and not x[7 * 4 + 2].any()  # no horizontal placement in column 7
    # the cleared cell (0xB2) at column 3 counts as empty: a vertical capsule there lands on the floor
    assert x[3 * 4 + 1][F["land"]] == 0
    # another colour on the viruses buries them
    assert placement_features(pf, 1, 2)[1][F["bury_a"]] == 1


def test_greedy_terms_of_known_boards():
    # column 0: three red viruses (0xD1) at the bottom; a red-blue capsule (first red, second blue)
    x = placement_features(_board({(15, 0): 0xD1, (14, 0): 0xD1, (13, 0): 0xD1}), 1, 2)
    greedy = ("virus", "lines", "halves", "touch", "cover", "holes", "height", "danger", "lag")
    terms = lambda i: tuple(int(x[i][F[n]]) for n in greedy)  # noqa: E731
    # vertical, red at the bottom: a column of 4 reds, 3 of them viruses; the stack stays 3 high (the
    # clear is not applied); q = 100 * 3 + 20 * 1 + 1 - 3 = 318, the best there is: lag 0
    assert terms(0 * 4 + 1) == (3, 1, 1, 0, 0, 0, 3, 0, 0)
    # horizontal, red over the viruses, blue over the empty column 1: the same clear (q 318)
    assert terms(0 * 4 + 0) == (3, 1, 1, 0, 0, 0, 3, 0, 0)
    # vertical, blue at the bottom: blue covers a red virus and red rests on blue with the viruses
    # below (cover 2), the stack 5 high: q = -12 - 5 = -17, lag 318 + 17 capped at 255
    assert terms(0 * 4 + 3) == (0, 0, 0, 0, 2, 0, 5, 0, 255)
    # horizontal, blue on the viruses and red over column 1's 3-cell gap: holes 3, cover 1 (blue on red)
    assert terms(0 * 4 + 2)[:7] == (0, 0, 0, 0, 1, 3, 4)
    # column 3: eight halves, yellow and red in turn from the floor (no run), a blue virus at column 2 row 8
    # (from the bottom): a blue-blue capsule standing on column 3 touches it, tops out at 10: danger 10 - 6
    stack = {(15 - r, 3): 0x80 | (r & 1) for r in range(8)}
    y = placement_features(_board(stack | {(7, 2): 0xD2}), 2, 2)
    assert tuple(int(y[3 * 4 + 1][F[n]]) for n in greedy[:8]) == (0, 0, 0, 1, 0, 0, 10, 4)
    # the top row: a vertical capsule locked there keeps its lower half only (rules.c lock)
    full = {(r, 5): 0x80 | (r % 2) for r in range(1, 16)}
    z = placement_features(_board(full), 0, 0)
    assert z[5 * 4 + 1][F["land"]] == 15 and z[5 * 4 + 1][F["height"]] == 16


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=128, max_size=128), st.integers(0, 2), st.integers(0, 2))
def test_features_are_bytes_in_their_ranges(pf, first, second):
    x = placement_features(pf, first, second)
    assert x.shape == (32, N_FEATURES) and x.dtype == np.uint8
    assert x[:, F["land"]].max() <= 16 and x[:, F["run"]].max() <= 15 and x[:, F["x"]].max() <= 7
    assert (x[:, F["run"]] == x[:, [F["va"], F["vb"], F["ha"], F["hb"]]].max(axis=1)).all()
    assert x[:, F["lines"]].max() <= 4 and x[:, F["height"]].max() <= 16 and x[:, F["danger"]].max() <= 10
    # the lag is 0 for a best placement: every capsule has one, unless every column is full
    scored = x[:, F["height"]] > 0
    assert not scored.any() or (x[scored, F["lag"]] == 0).any()


@pytest.fixture(scope="module")
def distilled(tmp_path_factory):
    """A tiny ``emurl distill`` with the rule-based teacher on MiniDoc-Nes (real emulator)."""
    run = tmp_path_factory.mktemp("distill")
    rc = main([str(run), "distill"][::-1] + ["--to", "tree", "--teacher", "greedy", "--rounds", "2", "--states", "40",
                                            "--held-out", "40", "--games", "2", "--max-depth", "6", "--no-progress"])
    assert rc == 0
    return run


def test_distill_writes_its_report_and_files(distilled):
    report = json.loads((distilled / "distill.json").read_text())
    assert report["teacher"] == "greedy" and report["training_states"] == 80
    held = report["held_out"]
    assert held["states"] == 40 and 0.0 <= held["agreement"] <= 1.0
    assert sum(n for _, n in held["recall"].values()) == 40
    assert report["depth"] <= 6 and report["nodes"] == 2 * report["leaves"] - 1
    for opp in ("random", "greedy"):
        r = report["closed_loop"][opp]
        assert r["tree"]["games"] == r["teacher"]["games"] == 2
        low, high = r["tree"]["wilson95"]
        assert low <= r["tree"]["rate"] <= high
    for name in ("tree.json", "tree.c", "tree.s", "dataset.npz", "held_out.npz"):
        assert (distilled / "distill" / name).is_file()
    tree = Tree.load(distilled / "distill" / "tree.json")
    assert tree.n_nodes == report["nodes"]
    # the exports name the feature layout the caller writes (the last one: lag)
    assert f"TREE_FEATURES+{N_FEATURES - 1}: lag" in (distilled / "distill" / "tree.s").read_text()
    assert f"f[{N_FEATURES - 1}]: lag" in (distilled / "distill" / "tree.c").read_text()


def test_recorded_states_are_the_features_of_their_boards(distilled):
    """The tree's decisions in the report are those of the recorded feature rows: each state's
    tree placement is a reachable one, and the rule-based labels are reachable too."""
    d = np.load(distilled / "distill" / "dataset.npz")
    X, y, mask = d["X"], d["y"], d["mask"]
    assert X.shape[1:] == (32, N_FEATURES) and len(X) == len(y) == 80
    assert mask[np.arange(len(y)), y].all()
    tree = Tree.load(distilled / "distill" / "tree.json")
    assert all(mask[i, tree.act(X[i], mask[i])] for i in range(len(y)))


def _recorded_rows(distilled, n=1000):
    d = np.load(distilled / "distill" / "dataset.npz")
    rows, _ = placement_rows(d["X"], d["y"], d["mask"])
    h = np.load(distilled / "distill" / "held_out.npz")
    rows = np.concatenate([rows, placement_rows(h["X"], h["y"], h["mask"])[0]])
    assert len(rows) >= n
    return rows[:n]


def test_tree_matches_scikit_learn(distilled):
    d = np.load(distilled / "distill" / "dataset.npz")
    clf, tree = fit_tree(d["X"], d["y"], d["mask"], max_depth=6)
    rows = _recorded_rows(distilled)
    proba = clf.predict_proba(rows.astype(np.float32))[:, list(clf.classes_).index(1)]
    assert (tree.scores(rows) == np.floor(255 * proba).astype(np.int64)).all()
    assert (clf.apply(rows.astype(np.float32)) >= 0).all()


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc to compile the C export")
def test_c_export_gives_the_trees_scores_and_placements(distilled, tmp_path):
    tree = Tree.load(distilled / "distill" / "tree.json")
    (tmp_path / "tree.c").write_text(to_c(tree))
    lib = tmp_path / "tree.so"
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", str(lib), str(tmp_path / "tree.c")], check=True)
    fn = ctypes.CDLL(str(lib)).emurl_tree
    fn.restype, fn.argtypes = ctypes.c_ubyte, [ctypes.POINTER(ctypes.c_ubyte)]
    rows = np.ascontiguousarray(_recorded_rows(distilled), np.uint8)
    c_scores = np.array([fn(r.ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte))) for r in rows])
    assert (c_scores == tree.scores(rows)).all()
    # and the placement chosen from the C scores is the tree's on every recorded state
    d = np.load(distilled / "distill" / "held_out.npz")
    for x, m in zip(d["X"], d["mask"]):
        allowed = np.flatnonzero(m)
        s = [fn(np.ascontiguousarray(x[a]).ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte))) for a in allowed]
        assert allowed[int(np.argmax(s))] == tree.act(x, m)


@pytest.mark.skipif(shutil.which("ca65") is None or shutil.which("ld65") is None, reason="no ca65/ld65 (cc65)")
def test_ca65_export_assembles_and_gives_the_trees_scores(distilled):
    tree = Tree.load(distilled / "distill" / "tree.json")
    code = assemble(to_ca65(tree))
    assert len(code) == _sizes(tree, 2)[0]  # the layout's own byte count is what ca65 made
    rows = _recorded_rows(distilled)
    assert [run_6502(code, r) for r in rows] == tree.scores(rows).tolist()
    # features above the zero page: absolute loads, 3 bytes each, same answers
    far = assemble(to_ca65(tree, features_base=0x0300))
    assert len(far) == _sizes(tree, 3)[0] and len(far) > len(code)
    assert [run_6502(far, r, features_base=0x0300) for r in rows[:200]] == tree.scores(rows[:200]).tolist()
    assert FEATURES_BASE + N_FEATURES <= 0xC0  # below cc65's zero page in MiniDoc


def test_a_deep_tree_uses_long_branches():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 16, (300, 32, N_FEATURES), dtype=np.uint8)
    y = rng.integers(0, 32, 300)
    mask = np.ones((300, 32), bool)
    _, tree = fit_tree(X, y, mask, max_depth=None, min_samples_leaf=1)
    source = to_ca65(tree)
    assert "jmp" in source
    if shutil.which("ca65"):
        code = assemble(source)
        assert len(code) == _sizes(tree, 2)[0]
        rows = X.reshape(-1, N_FEATURES)[:300]
        assert [run_6502(code, r) for r in rows] == tree.scores(rows).tolist()


def test_a_policy_teacher_labels_reachable_placements(tmp_path):
    from sb3_contrib import MaskablePPO

    from emurl.train.distill.dagger import Dataset, Teacher, make_env, rollout
    from emurl.train.distill.run import run_spec, teacher_path

    env = make_env(run_spec(tmp_path))
    try:
        (tmp_path / "checkpoints").mkdir()
        MaskablePPO("MultiInputPolicy", env, n_steps=8, batch_size=8, seed=0, device="cpu").save(
            tmp_path / "checkpoints" / "latest.zip")
        path = teacher_path(tmp_path, None)  # a run folder: its latest.zip
        assert path.endswith("latest.zip")
        data = Dataset()
        rollout(env, Teacher(path), None, 6, seed=3, data=data)
    finally:
        env.close()
    X, y, mask = data.arrays()
    assert len(y) == 6 and mask[np.arange(6), y].all()
    with pytest.raises(FileNotFoundError):
        teacher_path(tmp_path / "nothing", None)
