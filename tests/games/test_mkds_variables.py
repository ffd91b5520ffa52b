"""Mario Kart DS integration: its files, action sets and memory map, read on synthetic RAM
(``tests/mkds_memory.py``) in the three releases. No ROM is needed."""

from __future__ import annotations

import json

import pytest

from emurl.errors import IntegrationError
from emurl.games import load_integration
from emurl.games.mkds import game
from emurl.games.mkds.reward import Race
from emurl.games.variables import Variable, VariableReader
from emurl.states.mkds_rom import game_code_in_memory, region_offset
from mkds_memory import ANCHOR, ANCHOR_USA, DS_BUTTONS, GAME, INFO_FACTS, ON_DEMAND_FACTS, POINTERS, REGIONS, STRUCTS, build_memory


def test_integration_loads():
    integ = load_integration(GAME)
    assert integ.name == GAME and integ.system == "NintendoDs" and integ.source == "emurl"
    assert set(integ.scenarios()) == {"scenario", "scenario_1lap", "scenario_strict"}
    assert integ.metadata["game_codes"] == {"AMCE": "USA", "AMCP": "Europe", "AMCJ": "Japan"}
    assert integ.default_state is None
    assert set(INFO_FACTS) == set(integ.variables), "every data.json variable needs a row in INFO_FACTS"
    raw = json.loads((integ.folder / "data.json").read_text())
    for section in ("info", "on_demand"):
        for name, spec in raw[section].items():
            assert spec.get("doc"), f"data.json {section}.{name} needs a doc (what it is, where from)"
            if name not in ("game_code", "region_anchor"):
                assert spec["address_offset"] == {"address": "0x02000B54", "type": "<u4", "minus": "0x0216F320"}, name
    for name in integ.scenarios():
        race = integ.scenario(name).load_python()
        assert isinstance(race, Race)
    assert integ.scenario("scenario_1lap").load_python().options.laps == 1
    strict = integ.scenario("scenario_strict").load_python().options
    assert strict.end_on_respawn and strict.stuck_seconds == 5.0


def test_action_sets():
    sets = load_integration(GAME).action_sets
    steer = [[], ["A"], ["A", "LEFT"], ["A", "RIGHT"], ["LEFT"], ["RIGHT"]]
    assert sets["steer"] == steer
    assert sets["drift"] == steer + [["A", "R", "LEFT"], ["A", "R", "RIGHT"]]
    assert ["A", "L"] in sets["item"] and sets["item"][:6] == steer
    # gym-mkds' ID_TO_KEY, as DeSmuME keypad masks (A=1, RIGHT=16, LEFT=32, UP=64, R=256, L=512)
    bits = {"A": 1, "B": 2, "SELECT": 4, "START": 8, "RIGHT": 16, "LEFT": 32, "UP": 64, "DOWN": 128, "R": 256, "L": 512}
    assert [sum(bits[b] for b in c) for c in sets["gym_mkds"]] == [0, 33, 289, 1, 257, 321, 801, 273, 17]
    for name, combos in sets.items():
        assert all(b in DS_BUTTONS for c in combos for b in c), name
        assert len({tuple(sorted(c)) for c in combos}) == len(combos), f"{name}: duplicate combos"


@pytest.mark.parametrize("code", list(REGIONS))
def test_every_variable_decodes_in_every_region(code):
    ram = build_memory(code)
    for name, (_, _, _, _, want) in INFO_FACTS.items():
        got = game.variable(name).read(ram)
        assert got == pytest.approx(want), f"{code} {name}: {got} != {want}"
        assert isinstance(got, float) == isinstance(want, float), name
    for name, (_, _, _, _, want) in ON_DEMAND_FACTS.items():
        assert game.variable(name).read(ram) == pytest.approx(want), f"{code} {name}"
    assert game_code_in_memory(ram) == code
    assert region_offset(ram) == REGIONS[code] == game.region_offsets()[code]
    assert game.variable("racer_pointer").read(ram) == STRUCTS["driver"]
    assert game.variable("region_anchor").read(ram) == ANCHOR_USA + REGIONS[code]


def test_region_offset_is_what_moves_the_pointers():
    ram = build_memory("AMCJ")
    speed = game.variable("speed")
    assert speed.read(ram) == 18.5
    plain = Variable(speed.name, speed.address, speed.dtype, speed.pointer, scale=speed.scale)
    assert plain.read(ram) != 18.5  # the US pointer slot holds the decoy
    ram.write(ANCHOR, "<u4", 0)  # program not loaded: offset variables read 0
    assert speed.read(ram) == 0 and game.variable("lap").read(ram) == 0
    assert region_offset(ram) is None


def test_variable_reader_reads_what_each_variable_reads():
    """The env's planned reader (shared pointers and region offset followed once a call)
    gives each variable's own read, value and type, in order: with the offset, before the
    program is loaded (offset source 0) and behind a null pointer."""
    variables = [*game.info_variables().values(), *game.on_demand_variables().values()]
    reader = VariableReader(variables)

    def typed(values):  # 0 (a null pointer's int) must not become 0.0
        return [(name, type(value), value) for name, value in values.items()]

    def same(ram):
        got = reader(ram)
        assert typed(got) == typed({v.name: v.read(ram) for v in variables})
        return got

    for code in REGIONS:
        ram = build_memory(code)
        assert same(ram)["speed"] == 18.5
        ram.write(POINTERS["driver"] + REGIONS[code], "<u4", 0)  # null driver pointer
        got = same(ram)
        assert got["speed"] == 0 and type(got["speed"]) is int and got["lap"] == 2
        ram.write(ANCHOR, "<u4", 0)  # program not loaded: offset variables read 0
        assert same(ram)["lap"] == 0


def test_address_offset_json_errors():
    ok = Variable.from_json("v", {"address": "0x10", "type": "<u4", "address_offset": {"address": "0x20"}}, "f.json")
    assert ok.address_offset.dtype == "<u4" and ok.address_offset.minus == 0
    for bad, words in (
        ({"address": "0x20", "plus": 3}, "plus"),
        ("0x20", "expected an object"),
        ({"address": "0x20", "type": "u4"}, "type"),
        ({"address": "zz"}, "address"),
    ):
        with pytest.raises(IntegrationError, match=words) as err:
            Variable.from_json("v", {"address": "0x10", "type": "<u4", "address_offset": bad}, "f.json")
        assert "f.json: info.v.address_offset" in str(err.value)
