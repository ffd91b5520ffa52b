"""Dr. Mario integration (``DrMario-Nes``) and the logic it shares with ``MiniDoc-Nes``
(``emurl.games.drmario``): variables, playfield array variables, planes, vector and reward
decoded from synthetic memory images (``tests/drmario_memory.py``) through the real
variable reader and the scenarios as the integration loads them. No ROM is needed, except
for the last test (``EMURL_ROM_DIR``)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from drmario_memory import FACTS, GAME, build_memory, tiles
from emurl.errors import IntegrationError
from emurl.games import load_integration
from emurl.games.drmario import board as B
from emurl.games.drmario.observation import PLANES_SHAPE, SIDE, VECTOR_SIZE, planes_and_vector
from emurl.games.drmario.reward import Match, MatchOptions, SparseMatch
from emurl.games.variables import Variable, VariableReader

BUTTONS = ("B", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT", "A")  # the NES pad
SCENARIOS = {"scenario": (Match, 1), "scenario_p2": (Match, 2), "sparse": (SparseMatch, 1), "sparse_p2": (SparseMatch, 2)}


@pytest.fixture(scope="module")
def integ():
    return load_integration(GAME)


@pytest.fixture(scope="module")
def read(integ):
    """``read(ram)``: every variable of data.json, as the env's reader reads them."""
    return VariableReader(integ.variables.values())


# -- the integration's files ---------------------------------------------------------------------


def test_integration_files(integ):
    assert integ.system == "Nes" and integ.source == "emurl" and integ.players == 2
    assert integ.default_state is None and not list(integ.folder.glob("*.state"))
    assert set(integ.variables) == set(FACTS) | {"playfield_p1", "playfield_p2"}
    raw = json.loads((integ.folder / "data.json").read_text())
    assert all(spec.get("doc") for spec in raw["info"].values())
    assert integ.rom_shas == ["ff6459bc3af5743e3d303823999f33d74abdf1aa", "01de1e04c396298358e86468ba96148066688194"]
    assert set(integ.scenarios()) == set(SCENARIOS)
    for name, (cls, player) in SCENARIOS.items():
        scen = integ.scenario(name).load_python()
        assert type(scen).__name__ == cls.__name__ and scen.options.player == player
    scripts = json.loads((integ.folder / "start_states.json").read_text())
    assert {"1p_level0_low", "2p_level0_low"} <= set(scripts)
    for steps in scripts.values():
        for step in steps:
            names = step.get("press", step.get("hold", []))
            assert set([names] if isinstance(names, str) else names) <= set(BUTTONS), step
            assert set(step.get("until", {})) <= set(integ.variables), step


def test_minidoc_scenarios_reuse_the_module():
    folder = Path(load_integration(GAME).folder).parent / "MiniDoc-Nes"
    for name in SCENARIOS:
        assert json.loads((folder / f"{name}.json").read_text())["python"] == json.loads(
            (Path(load_integration(GAME).folder) / f"{name}.json").read_text())["python"]
    assert "emurl.games.drmario.reward import Match, MatchOptions, SparseMatch" in (folder / "drmario.py").read_text()


# -- variables -----------------------------------------------------------------------------------


@pytest.mark.parametrize("block_reads", [True, False])
def test_every_variable_decodes(integ, read, block_reads):
    p1 = tiles(["r.......", "YRB.yrb<"])
    p2 = tiles(["b......."])
    ram = build_memory(p1, p2, block_reads=block_reads)
    values = read(ram)
    assert ram.reads == (len(values) if block_reads else len(values) - 2 + 2 * 128)  # a playfield: one block read
    for name, (_, _, _, want) in FACTS.items():
        assert values[name] == want, name
        assert integ.variables[name].read(ram) == want, name
    for name, want in (("playfield_p1", p1), ("playfield_p2", p2)):
        got = values[name]
        assert got.dtype == np.uint8 and got.shape == (16, 8) and np.array_equal(got, want), name
        assert np.array_equal(integ.variables[name].read(ram), want)


def test_array_variable_json_and_reads():
    ok = Variable.from_json("v", {"address": "0x10", "type": "<u2", "shape": [2, 3], "mask": "0xFF"}, "f.json")
    assert ok.shape == (2, 3)
    ram = build_memory()
    ram.mem[0x10:0x1C] = bytes(range(1, 13))
    got = ok.read(ram)
    assert got.dtype == np.dtype("<u2") and got.tolist() == [[1, 3, 5], [7, 9, 11]]  # low bytes of 0x0201, ...
    scaled = Variable.from_json("v", {"address": "0x10", "type": "|u1", "shape": 4, "scale": 2}, "f.json")
    assert scaled.read(ram).tolist() == [0.5, 1.0, 1.5, 2.0]
    null = Variable.from_json("v", {"address": "0x20", "type": "|u1", "pointer": ["0x4"], "pointer_type": "<u2", "shape": [3]}, "f.json")
    assert null.read(ram).tolist() == [0, 0, 0] and VariableReader([null])(ram)["v"].tolist() == [0, 0, 0]
    for bad, words in (([0, 8], "positive ints"), ("16x8", "positive ints"), ([True], "positive ints")):
        with pytest.raises(IntegrationError, match=words):
            Variable.from_json("v", {"address": 0, "type": "|u1", "shape": bad}, "f.json")
    with pytest.raises(IntegrationError, match="integer type"):
        Variable.from_json("v", {"address": 0, "type": "|d1", "shape": [2]}, "f.json")


# -- the board -----------------------------------------------------------------------------------


def test_tiles_heights_holes():
    t = tiles(["....Y...", "r..*.o..", "rb<>.R.."])
    assert B.classify(t)[13, 4] == B.HALF and B.classify(t)[14, 3] == B.FLASH and B.classify(t)[14, 5] == B.EMPTY
    assert B.colours(t)[15].tolist() == [1, 2, 0, 2, -1, 1, -1, -1]
    assert B.column_heights(t).tolist() == [2, 1, 1, 1, 3, 1, 0, 0]
    assert B.holes(t).tolist() == [0, 0, 0, 0, 2, 0, 0, 0]  # under the Y: a cleared and an empty cell
    assert B.column_heights(tiles(["Y"] * 0 + ["r......."] * 16))[0] == 16
    with pytest.raises(ValueError, match="128 bytes"):
        B.board(bytes(127))
    assert B.board(bytes(range(128)))[1, 0] == 8


def test_capsule_cells_follow_the_rotation_table():
    # anchor x=2, y=4 -> row 11; the disassembly's halfPill_posOffset: +0/+1, +0/-8, +1/+0, -8/+0
    cells = {r: B.capsule_cells(2, 4, r, 0, 1)[:2] for r in range(4)}
    assert cells == {0: ((11, 2), (11, 3)), 1: ((11, 2), (10, 2)), 2: ((11, 3), (11, 2)), 3: ((10, 2), (11, 2))}
    assert B.capsule_cells(2, 4, 5) == B.capsule_cells(2, 4, 1)  # low two bits, as the game
    assert B.capsule_cells(7, 0, 0).second is None  # off the right edge: garbage coordinates
    t = tiles([])
    assert B.capsule_is_falling(t, B.capsule_cells(3, 15, 0))
    t[0, 4] = 0x72
    assert not B.capsule_is_falling(t, B.capsule_cells(3, 15, 0))


def test_count_lines_and_newly_cleared():
    before = tiles(["rrrr....", "b......."])
    after = tiles(["****....", "*......."])
    new = B.newly_cleared(before, after)
    assert new.sum() == 5 and B.count_lines(new) == 1
    cross = np.zeros((16, 8), bool)
    cross[10, 1:5] = True
    cross[8:12, 2] = True
    cross[0, :] = True
    assert B.count_lines(cross) == 3
    assert B.newly_cleared(after, after).sum() == 0


# -- observation ---------------------------------------------------------------------------------


def test_planes_match_a_hand_built_board(read):
    p1 = tiles(["y.......", "rb<>.R.*"])
    p2 = tiles(["b......."])
    values = read(build_memory(p1, p2, capsule_x_p1=3, capsule_y_p1=15, rotation_p1=3,
                               capsule_x_p2=5, capsule_y_p2=9, rotation_p2=1))
    planes, vec = planes_and_vector(values, player=1)
    assert planes.shape == PLANES_SHAPE and planes.dtype == np.uint8 and vec.shape == (VECTOR_SIZE,) and vec.dtype == np.float32
    want = np.zeros(PLANES_SHAPE, np.uint8)
    want[0] = 1
    for r, c, colour in ((14, 0, 0), (15, 0, 1), (15, 1, 2), (15, 2, 0), (15, 3, 2), (15, 5, 1)):
        want[0, r, c] = 0
        want[1 + colour, r, c] = 1
    want[5, 0, 3] = 1  # rotation 3 at y = 15: the first half would be above the bottle, the second at (0, 3)
    want[6] = 1
    want[6, 15, 0], want[9, 15, 0] = 0, 1  # the opponent's blue virus
    want[10, 6, 5], want[11, 5, 5] = 1, 1  # its vertical capsule: first half at row 15 - 9, second above
    for i in range(12):
        assert np.array_equal(planes[i], want[i]), f"plane {i}"
    # seat 2 sees the same bottles the other way round
    planes2, vec2 = planes_and_vector(values, player=2)
    assert np.array_equal(planes2[:6], planes[6:]) and np.array_equal(planes2[6:], planes[:6])
    assert np.array_equal(vec2[:SIDE], vec[SIDE:]) and np.array_equal(vec2[SIDE:], vec[:SIDE])


def test_vector_layout(read):
    values = read(build_memory(tiles(["r......."] * 3)))
    vec = planes_and_vector(values, 1)[1]
    own = vec[:SIDE]
    assert own[0] == pytest.approx(12 / 84) and own[1] == 1.0
    assert own[2:8].tolist() == [1, 0, 0, 0, 0, 1]  # falling: yellow, blue
    assert own[8:14].tolist() == [0, 1, 0, 0, 1, 0]  # next: red, red
    assert own[14] == pytest.approx(17 / 255)
    assert own[15:23].tolist() == pytest.approx([3 / 16] + [0] * 7)
    assert vec[SIDE] == pytest.approx(20 / 84)


def test_one_player_game_leaves_the_opponent_out(read):
    values = read(build_memory(players=1))
    planes, vec = planes_and_vector(values, 1)
    assert planes[6:].sum() == 0 and vec[SIDE:].sum() == 0 and planes[:6].sum() > 0
    with pytest.raises(ValueError, match="player must be 1 or 2"):
        planes_and_vector(values, 3)


def test_a_landed_capsule_is_not_drawn(read):
    landed = tiles(["...<>...", "r......."])  # the capsule's cells (row 14, x 3-4) hold the landed pill
    values = read(build_memory(landed, capsule_x_p1=3, capsule_y_p1=1, rotation_p1=0))
    planes, vec = planes_and_vector(values, 1)
    assert planes[4:6].sum() == 0 and vec[1] == 0.0


# -- reward --------------------------------------------------------------------------------------


class Play:
    """A scenario of the integration fed memory images: ``play.step(ram)`` → (reward, terminated, info)."""

    def __init__(self, integ, read, name: str, first):
        self.scen, self.read = integ.scenario(name).load_python(), read
        self.scen.reset(read(first))

    def step(self, ram):
        v = self.read(ram)
        return self.scen.reward(v), self.scen.terminated(v), self.scen.info(v)


QUIET = 0.1  # step reward of a step with an empty bottle and no event


def test_quiet_step_pays_survival_minus_height(integ, read):
    play = Play(integ, read, "scenario", build_memory())
    r, done, info = play.step(build_memory())
    assert r == pytest.approx(QUIET) and not done and info["end"] == "" and info["win"] is False
    stack = tiles(["r......."] * 4)  # one column 4 high: mean height 0.5
    r, done, info = play.step(build_memory(stack))
    assert r == pytest.approx(QUIET - 0.5 * 0.5) and not done and info["mean_height"] == 0.5


def test_virus_cleared_and_halves_cleared(integ, read):
    before = tiles(["r.......", "R.......", "R.......", "R......."])
    after = tiles(["*.......", "*.......", "*.......", "*......."])
    play = Play(integ, read, "scenario", build_memory(before, viruses_p1=0x05))
    r, done, info = play.step(build_memory(after, viruses_p1=0x04))
    assert (info["viruses_cleared"], info["halves_cleared"], info["combo"]) == (1, 3, 1)
    assert r == pytest.approx(100 + 3 * 5 + QUIET) and not done
    # the flashing cells are not cleared twice, and a 1-line combo pays nothing
    r, _, info = play.step(build_memory(tiles(["o......."] * 4), viruses_p1=0x04))
    assert r == pytest.approx(QUIET) and info["halves_cleared"] == 0


def test_a_chain_pays_per_line_from_two(integ, read):
    start = tiles(["Y.......", "Y.......", "Y.......", "Y.......", "RRRR...."])
    line1 = tiles(["Y.......", "Y.......", "Y.......", "Y.......", "****...."])
    line2 = tiles(["*.......", "*.......", "*.......", "*.......", "........"])
    play = Play(integ, read, "scenario", build_memory(start))
    r1, _, i1 = play.step(build_memory(line1))
    assert i1["combo"] == 1 and r1 == pytest.approx(4 * 5 + QUIET - 0.5 * 5 / 8)  # cleared cells have no height
    r2, _, i2 = play.step(build_memory(line2))
    assert i2["combo"] == 2 and r2 == pytest.approx(4 * 5 + 20 * 2 + QUIET)
    # a third line in the same chain pays 20 more; a new capsule (y back up) starts a new combo
    r3, _, i3 = play.step(build_memory(tiles(["Y......."] * 3 + ["********"]), capsule_y_p1=15))
    assert i3["combo"] == 3 and r3 == pytest.approx(8 * 5 + 20 + QUIET - 0.5 * (4 / 8))
    play.step(build_memory(tiles([]), capsule_y_p1=3))
    r5, _, i5 = play.step(build_memory(tiles([]), capsule_y_p1=15))
    assert i5["combo"] == 0 and r5 == pytest.approx(QUIET)


def test_top_out_one_player(integ, read):
    play = Play(integ, read, "scenario", build_memory(players=1))
    r, done, info = play.step(build_memory(players=1, mode=7))
    assert done and info["end"] == "topout" and not info["win"] and r == pytest.approx(-1000)
    sparse = Play(integ, read, "sparse", build_memory(players=1))
    assert sparse.step(build_memory(players=1, mode=7))[0] == pytest.approx(-1)


def test_top_out_two_players_by_victories(integ, read):
    # P2 topped out: the game adds a victory to P1 (the seat that did not fail) and shows mode 7
    first, end = build_memory(mode=4), build_memory(mode=7, victories_p1=2)
    p1, p2 = Play(integ, read, "scenario", first), Play(integ, read, "scenario_p2", first)
    r1, d1, i1 = p1.step(end)
    r2, d2, i2 = p2.step(end)
    assert d1 and d2 and (i1["end"], i2["end"]) == ("win", "topout") and i1["win"] and not i2["win"]
    assert r1 == pytest.approx(1000 + QUIET) and r2 == pytest.approx(-1000)
    # mode 5 (the frame before) decides nothing yet
    assert not Play(integ, read, "scenario", first).step(build_memory(mode=5))[1]
    # both topped out: neither count goes up
    both = Play(integ, read, "scenario", first).step(build_memory(mode=7))
    assert both[1] and both[2]["end"] == "topout"


def test_win_loss_and_draw_by_clearing(integ, read):
    first = build_memory(viruses_p1=0x01, viruses_p2=0x03)
    cleared = build_memory(viruses_p1=0x00, viruses_p2=0x03)
    r1, d1, i1 = Play(integ, read, "scenario", first).step(cleared)
    r2, d2, i2 = Play(integ, read, "scenario_p2", first).step(cleared)
    assert d1 and d2 and (i1["end"], i2["end"]) == ("win", "loss")
    assert r1 == pytest.approx(100 + 1000 + QUIET) and r2 == pytest.approx(-500 + QUIET)
    s1 = Play(integ, read, "sparse", first).step(cleared)[0]
    s2 = Play(integ, read, "sparse_p2", first).step(cleared)[0]
    assert (s1, s2) == (pytest.approx(1.01), pytest.approx(-1))
    draw = Play(integ, read, "scenario", build_memory(viruses_p1=0x01, viruses_p2=0x01))
    r, done, info = draw.step(build_memory(viruses_p1=0x00, viruses_p2=0x00))
    assert done and info["end"] == "draw" and r == pytest.approx(100 + QUIET)


def test_winner_byte_and_no_viruses_yet(integ, read):
    r, done, info = Play(integ, read, "scenario", build_memory()).step(build_memory(winner=2))
    assert done and info["end"] == "loss" and r == pytest.approx(-500 + QUIET)
    # a state saved before the viruses were placed (counts 0) does not end at once
    empty = build_memory(viruses_p1=0, viruses_p2=0)
    assert not Play(integ, read, "scenario", empty).step(empty)[1]
    # a winner byte already set at reset is not a new win
    stale = build_memory(winner=1)
    assert not Play(integ, read, "scenario", stale).step(stale)[1]


def test_options(tmp_path):
    assert MatchOptions.from_dict({"player": 2, "virus_reward": 1}).player == 2
    assert SparseMatch().options.win_reward == 1.0 and Match().options.win_reward == 1000.0
    for bad, words in (({"player": 3}, "1 or 2"), ({"speed": 1}, "unknown key"), ({"combo_min": 0}, ">= 1"),
                       ({"win_reward": "x"}, "a number")):
        with pytest.raises(IntegrationError, match=words):
            MatchOptions.from_dict(bad, "s.json: match")


# -- the real game -------------------------------------------------------------------------------


def _real_rom(integ) -> str | None:
    folder = os.environ.get("EMURL_ROM_DIR")
    if not folder:
        return None
    for path in sorted(Path(folder).rglob("*.nes")):
        data = path.read_bytes()
        if {hashlib.sha1(data).hexdigest(), hashlib.sha1(data[16:]).hexdigest()} & set(integ.rom_shas):
            return str(path)
    return None


def test_real_rom_reaches_a_level_and_decodes(integ):
    rom = _real_rom(integ)
    if rom is None:
        pytest.skip("needs Dr. Mario (Japan, USA) Rev 0 (a SHA-1 of rom.sha) as a .nes file under EMURL_ROM_DIR")
    from emurl.emulators import open_emulator
    from emurl.states.scripts import load_scripts, run_script

    emu = open_emulator(rom, "Nes")
    try:
        run_script(emu, load_scripts(integ)["1p_level0_low"], integ.variables, "1p_level0_low")
        values = VariableReader(integ.variables.values())(emu)
        assert values["mode"] == 4 and values["players"] == 1 and values["viruses_p1"] == 4
        tiles_p1 = values["playfield_p1"]
        assert (B.classify(tiles_p1) == B.VIRUS_CELL).sum() == 4
        planes, _ = planes_and_vector(values, 1)
        assert planes[1:4].sum() == 4
    finally:
        emu.close()
