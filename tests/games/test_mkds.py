"""Mario Kart DS integration: memory map on synthetic RAM (three regions), race scenario,
start-state menu driver, game check, features (checkpoints, KCL wall rays), courses,
curriculum. No ROM is needed except for the tests marked ``needs_rom``, which look in
``EMURL_ROM_DIR`` for an .nds whose header game code is AMCE, AMCP or AMCJ.

The synthetic RAM is laid out from the facts file (facts/mario-kart-ds.md) independently
of ``data.json``: the tables below are a second reading of the facts, so a wrong
offset or type in ``data.json`` fails here.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from emurl.errors import IntegrationError
from emurl.games import load_integration
from emurl.games.mkds import game
from emurl.states.check import check_game, diagnose
from emurl.games.mkds.courses import (
    COURSES,
    CUPS,
    UnknownCourseError,
    course_by_abbr,
    course_by_id,
    course_by_order,
    find_course,
)
from emurl.wrappers.curriculum import StartStateCurriculum, save_state_here
from emurl.games.mkds.features import (
    KclGeometry,
    MemoryLayoutError,
    RaceFeatures,
    RaceFeaturesObservation,
    cast_rays,
    ray_directions,
    read_kcl,
)
from emurl.games.mkds.reward import Race, RaceOptions
from emurl.states.mkds_rom import RomCheckError, check_rom, find_roms, game_code_in_memory, import_rom, region_offset
from emurl.states.mkds import (
    StartStateError,
    kart_position,
    make_start_state,
    menu_script,
)
from emurl.states.scripts import StartStateError as GenericStartStateError
from emurl.states.scripts import run_script, script_frames
from emurl.games.variables import Variable, VariableReader

GAME = "MarioKartDS-NintendoDs"
BASE, SIZE = 0x02000000, 4 << 20
DS_BUTTONS = ("B", "Y", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT", "A", "X", "L", "R")
REGIONS = {"AMCE": 0x0, "AMCP": 0x20, "AMCJ": 0xA0}  # racer pointer 0x0217ACF8 / AD18 / AD98
ANCHOR, ANCHOR_USA = 0x02000B54, 0x0216F320
# USA addresses holding pointers to structs (facts: "Pointers (USA, AMCE)")
POINTERS = {"driver": 0x0217ACF8, "status": 0x021755FC, "rstate": 0x0217AA34, "config": 0x021759A0,
            "scene": 0x021759AC, "map": 0x02175600}
KCL_HEADER = 0x0217B5F4  # the header itself, not a pointer
STRUCTS = {"driver": 0x02200000, "status": 0x02210000, "rstate": 0x02220000, "config": 0x02230000,
           "scene": 0x02240000, "map": 0x02250000}
CPOI_AT, KCL_AT = 0x02260000, 0x02300000


def fx(x: float) -> int:
    return int(round(x * 4096))


# name: (struct, offset from its base, type, raw value, decoded value) -- facts/mario-kart-ds.md
INFO_FACTS = {
    "race_progress": ("status", 0x58, "<i4", fx(1.25), 1.25),
    "lap_progress": ("status", 0x5C, "<i4", fx(0.25), 0.25),
    "lap": ("status", 0x38, "<i4", 2, 2),
    "checkpoint": ("status", 0x46, "<u2", 17, 17),
    "key_checkpoint": ("status", 0x48, "<u2", 5, 5),
    "speed": ("driver", 0x2A8, "<i4", fx(18.5), 18.5),
    "max_speed": ("driver", 0xD0, "<i4", fx(20.0), 20.0),
    "boost_timer": ("driver", 0x238, "<i2", -7, -7),
    "place": ("driver", 0x3D8, "<i4", 3, 3),
    "position_x": ("driver", 0x80, "<i4", fx(-1234.5), -1234.5),
    "position_y": ("driver", 0x84, "<i4", fx(56.25), 56.25),
    "position_z": ("driver", 0x88, "<i4", fx(789.0), 789.0),
    "facing_angle": ("driver", 0x236, "<u2", 0xC000, 0xC000),
    "floor_type": ("driver", 0x3E0, "<u4", 3, 3),
    "offroad_factor": ("driver", 0xDC, "<i4", fx(0.5), 0.5),
    "in_air": ("driver", 0x3DD, "|u1", 1, 1),
    "respawn_counter": ("driver", 0x3AC, "<u2", 2, 2),
    "race_frame": ("rstate", 0x4, "<i4", 1234, 1234),
    "scene_state": ("scene", 0x10C, "|u1", 2, 2),
    "course": ("config", 0x0, "<i4", 22, 22),
    "character": ("config", 0x68, "<i4", 7, 7),
    "kart": ("config", 0x6C, "<i4", 21, 21),
}
ON_DEMAND_FACTS = {
    "direction_x": ("driver", 0x50, "<i4", fx(0.0), 0.0),
    "direction_y": ("driver", 0x54, "<i4", fx(0.0), 0.0),
    "direction_z": ("driver", 0x58, "<i4", fx(1.0), 1.0),
    "lap_frames": ("status", 0x18, "<i4", 600, 600),
    "status_place": ("status", 0x50, "<u2", 0x31, 1),  # bits 0-3 place, 4-7 driver id
    "race_mode": ("config", 0x8, "<i4", 1, 1),
    "cpoi_pointer": ("map", 0x44, "<u4", CPOI_AT, CPOI_AT),
    "cpoi_count": ("map", 0x48, "<u4", 0, 0),
}


class FakeDs:
    """4 MiB of DS main RAM as a bytearray, read and written by absolute address like the DS backends."""

    buttons = DS_BUTTONS
    frame_rate = 59.8261

    def __init__(self):
        self.mem = bytearray(SIZE)

    def _span(self, address: int, size: int) -> slice:
        off = address - BASE
        if not (0 <= off and off + size <= SIZE):
            raise ValueError(f"address {address:#x} outside main RAM")
        return slice(off, off + size)

    def read(self, address: int, dtype: str) -> int:
        size = int(dtype[-1])
        order = "big" if dtype[0] == ">" else "little"
        return int.from_bytes(self.mem[self._span(address, size)], order, signed=dtype[-2] == "i")

    def write(self, address: int, dtype: str, value: int) -> None:
        size = int(dtype[-1])
        order = "big" if dtype[0] == ">" else "little"
        self.mem[self._span(address, size)] = int(value).to_bytes(size, order, signed=dtype[-2] == "i")

    def write_bytes(self, address: int, data: bytes) -> None:
        self.mem[self._span(address, len(data))] = data


def build_memory(code: str = "AMCE", decoys: bool = True, facts: dict | None = None) -> FakeDs:
    """Synthetic RAM of a race in progress on release ``code``; values from INFO_FACTS / ON_DEMAND_FACTS."""
    ram, off = FakeDs(), REGIONS[code]
    ram.write(0x023FFA8C, "<u4", int.from_bytes(code.encode(), "little"))
    ram.write(ANCHOR, "<u4", ANCHOR_USA + off)
    for name, addr in POINTERS.items():
        ram.write(addr + off, "<u4", STRUCTS[name])
        if decoys and off:  # what a reader that ignores the region offset would find
            ram.write(addr, "<u4", STRUCTS[name] + 0x8000)
            ram.write_bytes(STRUCTS[name] + 0x8000, b"\x55" * 0x600)
    for struct, offset, dtype, raw, _ in {**INFO_FACTS, **ON_DEMAND_FACTS, **(facts or {})}.values():
        ram.write(STRUCTS[struct] + offset, dtype, raw)
    return ram


# -- the integration ------------------------------------------------------------------------
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


def test_scenario_class_without_from_scenario_still_builds(tmp_path):
    from emurl.games.scenario import load_scenario

    (tmp_path / "s.py").write_text(
        "class S:\n    def reset(self, v): pass\n    def reward(self, v): return 1.0\n"
        "    def terminated(self, v): return False\n"
    )
    (tmp_path / "scenario.json").write_text(json.dumps({"python": "s.py:S"}))
    assert load_scenario(str(tmp_path / "scenario.json")).load_python().reward({}) == 1.0


# -- reward and episodes --------------------------------------------------------------------
def _v(**kw):
    v = dict(race_progress=0.0, speed=0.0, floor_type=0, lap=1, race_frame=1, respawn_counter=0, checkpoint=0, place=1)
    v.update(kw)
    return v


def test_reward_terms_and_clip():
    race = Race()
    race.reset(_v())
    assert race.reward(_v(race_progress=0.002, race_frame=5)) == pytest.approx(0.2)
    assert race.reward(_v(race_progress=0.004, speed=10.0, race_frame=9)) == pytest.approx(0.3)
    v = _v(race_progress=0.006, speed=10.0, floor_type=3, race_frame=13)
    assert race.reward(v) == pytest.approx(0.2)
    info = race.info(v)
    assert info["offroad"] is True and info["delta_progress"] == pytest.approx(0.002)
    assert race.reward(_v(race_progress=-0.5, race_frame=17)) == -1.0  # a respawn's jump back: clipped
    assert race.reward(_v(race_progress=0.5, race_frame=21)) == 1.0
    no_clip = Race(RaceOptions(clip=None))
    no_clip.reset(_v())
    assert no_clip.reward(_v(race_progress=0.5)) == pytest.approx(50.0)


def test_one_lap_sums_to_progress_reward():
    """A lap of 2400 frames at frame skip 4: 600 steps of ~0.17, none clipped, summing to ~100 + speed terms."""
    race = Race(RaceOptions(speed_reward=0.0, stuck_seconds=None))
    race.reset(_v())
    total, biggest = 0.0, 0.0
    for step in range(1, 601):
        r = race.reward(_v(race_progress=step / 600, race_frame=1 + 4 * step, lap=1 if step < 600 else 2))
        total, biggest = total + r, max(biggest, r)
    assert total == pytest.approx(100.0) and biggest < 1.0


@pytest.mark.parametrize("laps", [1, 3])
def test_terminated_when_laps_done(laps):
    race = Race(RaceOptions(laps=laps, stuck_seconds=None))
    race.reset(_v())
    for lap in range(1, laps + 1):
        v = _v(lap=lap, race_progress=lap - 0.5, race_frame=100 * lap)
        race.reward(v)
        assert not race.terminated(v) and race.info(v)["laps_done"] == lap - 1
    v = _v(lap=laps + 1, race_progress=laps + 0.01, race_frame=100 * (laps + 1))
    race.reward(v)
    assert race.terminated(v) and race.info(v)["end"] == "finished" and race.info(v)["laps_done"] == laps


def test_finish_by_progress_and_first_lap():
    race = Race(RaceOptions(laps=2, finish="progress", stuck_seconds=None))
    race.reset(_v())
    for p, done in ((1.99, False), (2.0, True)):
        v = _v(race_progress=p, lap=0)
        race.reward(v)
        assert race.terminated(v) is done
    zero_based = Race(RaceOptions(laps=1, first_lap=0, stuck_seconds=None))
    zero_based.reset(_v(lap=0))
    v = _v(lap=1, race_progress=1.0)
    zero_based.reward(v)
    assert zero_based.terminated(v)


def test_stuck_detection_uses_race_frames():
    race = Race(RaceOptions(stuck_seconds=2.0, stuck_min_progress=0.01))
    race.reset(_v(race_frame=100))
    limit = 100 + 2.0 * 59.8261
    frame, progress = 100, 0.0
    while frame + 4 < limit:  # crawling forward by less than stuck_min_progress: still stuck-counting
        frame, progress = frame + 4, progress + 0.0001
        v = _v(race_progress=progress, race_frame=frame)
        race.reward(v)
        assert not race.terminated(v), frame
    v = _v(race_progress=progress, race_frame=frame + 4)
    race.reward(v)
    assert race.terminated(v) and race.info(v)["stuck"] and race.info(v)["end"] == "stuck"
    # progress resets the clock
    race.reset(_v(race_frame=100))
    for frame in range(104, 400, 4):
        v = _v(race_progress=(frame - 100) * 0.001, race_frame=frame)
        race.reward(v)
        assert not race.terminated(v)
    never = Race(RaceOptions(stuck_seconds=None))
    never.reset(_v())
    v = _v(race_frame=10_000)
    never.reward(v)
    assert not never.terminated(v)


def test_respawn_termination_is_optional():
    for end_on_respawn in (False, True):
        race = Race(RaceOptions(end_on_respawn=end_on_respawn))
        race.reset(_v(respawn_counter=0))
        v = _v(race_frame=5)
        race.reward(v)
        assert not race.terminated(v)
        v = _v(respawn_counter=1, race_frame=9)
        race.reward(v)
        assert race.info(v)["respawned"] and race.terminated(v) is end_on_respawn
        v = _v(respawn_counter=0, race_frame=13)  # counter going back to 0 is not a respawn
        race.reward(v)
        assert not race.info(v)["respawned"] and not race.terminated(v)


def test_info_keys():
    race = Race()
    race.reset(_v())
    v = _v(race_progress=0.01, speed=3.0, lap=1, checkpoint=4, place=2, race_frame=40)
    race.reward(v)
    info = race.info(v)
    assert set(info) >= {"speed", "delta_progress", "lap", "offroad", "checkpoint", "place", "race_frame"}
    assert (info["speed"], info["lap"], info["checkpoint"], info["place"], info["race_frame"]) == (3.0, 1, 4, 2, 40)


def test_race_options_errors():
    with pytest.raises(IntegrationError, match=r"s\.json: race: unknown key\(s\) \['lapz'\]"):
        RaceOptions.from_dict({"lapz": 3}, "s.json: race")
    for bad in ({"laps": 0}, {"laps": "3"}, {"finish": "time"}, {"offroad_types": "3"}, {"end_on_respawn": 1},
                {"clip": -1}, {"speed_reward": "x"}):
        with pytest.raises(IntegrationError, match=list(bad)[0]):
            RaceOptions.from_dict(bad)


# -- courses --------------------------------------------------------------------------------
def test_course_table():
    assert len(COURSES) == 32 and [c.order for c in COURSES] == list(range(32))
    assert len({c.abbr for c in COURSES}) == 32 and len({c.internal_id for c in COURSES}) == 32
    yf = course_by_abbr("yf")
    assert (yf.order, yf.name, yf.internal_id, yf.cup_name, yf.slot) == (1, "Yoshi Falls", 22, "Mushroom", 1)
    assert course_by_abbr("YF") is yf and course_by_abbr("yoshi falls") is yf and find_course(yf) is yf
    assert course_by_id(1).abbr == "ryc" and course_by_order(15).abbr == "rr"
    assert course_by_abbr("rr").cup_name == "Special" and course_by_abbr("rmc1").cup_name == "Shell"
    assert [c.abbr for c in COURSES if c.cup == 7] == ["rci2", "rbb", "rsg", "ryc"] and CUPS[7] == "Lightning"
    assert sum(c.retro for c in COURSES) == 16


def test_course_errors():
    with pytest.raises(UnknownCourseError, match=r"Did you mean .*yf \(Yoshi Falls\)"):
        course_by_abbr("yff")
    with pytest.raises(UnknownCourseError, match="Rainbow Road"):
        course_by_abbr("rainbow")
    with pytest.raises(UnknownCourseError, match="Courses: f8c"):
        course_by_abbr("zzzzzzzz")
    with pytest.raises(UnknownCourseError, match="internal id 2"):
        course_by_id(2)
    with pytest.raises(UnknownCourseError, match="0-31"):
        course_by_order(32)
    with pytest.raises(UnknownCourseError, match="course_by_id"):
        find_course(22)
    assert "unknown Mario Kart DS course" in str(pytest.raises(UnknownCourseError, course_by_abbr, "q").value)


# -- ROM check ------------------------------------------------------------------------------
def fake_nds(path: Path, code: str = "AMCE", title: str = "MARIOKART DS") -> Path:
    header = bytearray(0x200)
    header[0 : len(title)] = title.encode()
    header[0x0C:0x10] = code.encode()
    path.write_bytes(bytes(header) + b"\0" * 0x1000)
    return path


def test_check_rom(tmp_path):
    for code, region in (("AMCE", "USA"), ("AMCP", "Europe"), ("AMCJ", "Japan")):
        info = check_rom(fake_nds(tmp_path / f"{code}.nds", code))
        assert (info.game_code, info.region, info.title) == (code, region, "MARIOKART DS") and len(info.sha1) == 40
    with pytest.raises(RomCheckError, match=r"game code 'ASME' \(title 'SUPERMARIO64'\) is not Mario Kart DS.*AMCE \(USA\)"):
        check_rom(fake_nds(tmp_path / "sm64.nds", "ASME", "SUPERMARIO64"))
    (tmp_path / "short.nds").write_bytes(b"\0" * 100)
    with pytest.raises(RomCheckError, match="too short"):
        check_rom(tmp_path / "short.nds")
    with pytest.raises(RomCheckError, match="no such ROM"):
        check_rom(tmp_path / "missing.nds")
    assert [r.game_code for r in find_roms(tmp_path)] == ["AMCE", "AMCJ", "AMCP"]


def test_import_rom(tmp_path, monkeypatch):
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    info = import_rom(fake_nds(tmp_path / "mine.nds", "AMCP"))
    assert Path(info.path) == tmp_path / "data" / "roms" / GAME / "rom.nds"
    assert load_integration(GAME).rom_path() == info.path
    with pytest.raises(RomCheckError):
        import_rom(fake_nds(tmp_path / "other.nds", "XXXX"))


# -- start states (menu driver on a fake emulator) ------------------------------------------
class FakeMkds(FakeDs):
    """A fake DS running 'Mario Kart DS': records presses; the race starts at frame ``race_at``.

    With A held in the race, the kart drives: speed 15, progress +0.0005 and z +15 a frame.
    """

    backend = "fake"
    core = "fake core 1.0"

    def __init__(self, code="AMCE", race_at=1500, config=(22, 0, 0), drives=True):
        super().__init__()
        self.code, self.race_at, self.drives = code, race_at, drives
        self.frame, self.held, self.presses, self.backup, self.closed = 0, (), [], None, False
        ram = build_memory(code, decoys=False)
        self.mem = ram.mem
        off = REGIONS[code]
        self._racer_slot = POINTERS["driver"] + off
        self.write(self._racer_slot, "<u4", 0)
        self._scene = STRUCTS["scene"] + 0x10C
        self.write(self._scene, "|u1", 0)
        self.write(STRUCTS["rstate"] + 4, "<i4", 0)
        for (struct, offset), value in zip((("config", 0), ("config", 0x68), ("config", 0x6C)), config):
            self.write(STRUCTS[struct] + offset, "<i4", value)
        for name, value in (("speed", 0), ("race_progress", 0), ("lap", 1), ("in_air", 0), ("place", 1), ("floor_type", 0)):
            struct, offset, dtype, _, _ = INFO_FACTS[name]
            self.write(STRUCTS[struct] + offset, dtype, value)

    def load_backup(self, path):
        self.backup = path

    def set_buttons(self, pressed, player=0):
        self.held = tuple(b for b, p in zip(self.buttons, pressed) if p)

    def step(self, frames=1):
        for _ in range(frames):
            if self.held:
                self.presses.append((self.frame, self.held))
            self.frame += 1
            if self.race_at is not None and self.frame >= self.race_at:
                self.write(self._racer_slot, "<u4", STRUCTS["driver"])
                self.write(self._scene, "|u1", 2)
                self.write(STRUCTS["rstate"] + 4, "<i4", self.frame - self.race_at)
                if self.drives and "A" in self.held:
                    d, s = STRUCTS["driver"], STRUCTS["status"]
                    self.write(d + 0x2A8, "<i4", fx(15.0))
                    self.write(d + 0x88, "<i4", self.read(d + 0x88, "<i4") + fx(15.0))
                    self.write(s + 0x58, "<i4", self.read(s + 0x58, "<i4") + fx(0.0005))

    def screen(self):
        return np.zeros((384, 256, 3), np.uint8)

    def save_state(self):
        return b"fake state at frame %d" % self.frame

    def close(self):
        self.closed = True


def _opener(fake):
    def open_emulator(rom, system, backend):
        assert system == "NintendoDs"
        return fake
    return open_emulator


def _never_open(*args):
    raise AssertionError("no emulator may open before the ROM and save are checked")


def test_menu_script():
    def presses(script):
        return [step["press"] for step in script if "press" in step]

    assert kart_position(0, 0) == 0 and kart_position(0, 2) == 2
    assert kart_position(0, 21) == 3  # kart 21 belongs to character 7, second in the grid
    assert kart_position(7, 0) == 33  # the list starts at Luigi (7) and wraps to 0 last
    for bad in ((12, 0), (0, 36), (0, -1)):
        with pytest.raises(ValueError):
            kart_position(*bad)
    p = presses(menu_script("f8c"))
    assert p == ["A", "DOWN", "A", "A", "A", "A", "A", "A", "A"]
    p = presses(menu_script("rr", character=9, kart=27))  # rr: cup 3 slot 3; character 9: grid row 2 col 0
    assert p == ["A", "DOWN", "A", "A", "DOWN", "DOWN", "A", "A",  # title, time trial, character 9
                 "RIGHT", "RIGHT", "RIGHT", "A", "DOWN", "DOWN", "DOWN", "A", "A"]  # cup 3, slot 3
    p = presses(menu_script("rmc1"))  # cup 4: second row, first column
    assert p[-5:] == ["A", "DOWN", "A", "A", "A"] and p.count("DOWN") == 2


def test_menu_script_is_a_start_states_script_with_the_facts_timing():
    """menu_script uses emurl's one script format: {"wait": N} and {"press": button} steps,
    a press one frame; the frames each button goes down on are the facts' menu timing."""
    for script in (menu_script("f8c"), menu_script("rr", character=9, kart=27)):
        assert all(step.keys() == {"wait"} and isinstance(step["wait"], int) and step["wait"] > 0
                   or step.keys() == {"press"} and step["press"] in DS_BUTTONS for step in script)

    def downs(script):
        return [(f, held) for f, held in enumerate(script_frames(script)) if held]

    f8c = menu_script("f8c")  # character 0, kart 0, cup 0 slot 0: no cursor moves
    assert len(script_frames(f8c)) == 829
    assert downs(f8c) == [(360, ("A",)), (471, ("DOWN",)), (472, ("A",)), (518, ("A",)), (564, ("A",)),
                          (595, ("A",)), (756, ("A",)), (812, ("A",)), (828, ("A",))]
    rr = menu_script("rr", character=9, kart=27)  # grid row 2; cup 3 (column 3) slot 3; moves 7 frames apart
    assert len(script_frames(rr)) == 893
    assert downs(rr) == [(360, ("A",)), (471, ("DOWN",)), (472, ("A",)), (518, ("A",)),
                         (564, ("DOWN",)), (572, ("DOWN",)), (580, ("A",)), (611, ("A",)),
                         (772, ("RIGHT",)), (780, ("RIGHT",)), (788, ("RIGHT",)), (796, ("A",)),
                         (852, ("DOWN",)), (860, ("DOWN",)), (868, ("DOWN",)), (876, ("A",)), (892, ("A",))]
    # the kart list: RIGHT 3 per character (kart 21 is Luigi's first, 3 RIGHTs past Mario's)
    k = menu_script("f8c", character=0, kart=21)
    assert len(script_frames(k)) == 829 + 3 * 8
    assert [b for _, (b,) in downs(k)][5:9] == ["RIGHT", "RIGHT", "RIGHT", "A"]


def test_menu_script_plays_on_the_generic_runner():
    """run_script plays a menu script frame for frame as script_frames expands it; a button
    the emulator lacks fails with the one StartStateError, naming it and the emulator's buttons."""
    assert StartStateError is GenericStartStateError and issubclass(StartStateError, RuntimeError)
    script = menu_script("rr", character=9, kart=27)
    fake = FakeMkds(race_at=None)
    assert run_script(fake, script) == len(script_frames(script)) == fake.frame
    assert fake.presses == [(f, held) for f, held in enumerate(script_frames(script)) if held]
    assert fake.held == ()  # released at the end

    class NoDown(FakeMkds):
        buttons = tuple(b for b in DS_BUTTONS if b != "DOWN")

    with pytest.raises(StartStateError, match=r"\[3\]: unknown button 'DOWN' \(buttons: B, Y, SELECT, START, UP, LEFT"):
        run_script(NoDown(race_at=None), script)
    with pytest.raises(StartStateError, match=r"\[1\]: unknown button 'Z'"):
        script_frames([{"wait": 2}, {"press": "Z"}], buttons=DS_BUTTONS)
    with pytest.raises(StartStateError, match=r"\[0\]: an until step has no fixed frame count"):
        len(script_frames([{"until": {"race_frame": 1}}]))
    with pytest.raises(StartStateError, match=r"\[1\]: expected one of wait/press/hold/until"):
        script_frames([{"wait": 1}, ("press", "A")])
    # press with frames/repeat/gap: (frames + gap) * repeat frames, as run_script runs them
    assert script_frames([{"press": ["A", "B"], "frames": 2, "repeat": 2, "gap": 1}, {"wait": 1}]) == [
        ("A", "B"), ("A", "B"), (), ("A", "B"), ("A", "B"), (), ()]


def test_make_start_state(tmp_path):
    save = tmp_path / "100percent.sav"
    save.write_bytes(b"\xff" * 1024)
    rom = fake_nds(tmp_path / "mkds.nds")
    fake = FakeMkds(config=(22, 0, 0))
    made = make_start_state(str(rom), "yf", save=save, folder=tmp_path / "states", open_emulator=_opener(fake))
    assert made.name == "yf" and made.path == tmp_path / "states" / "yf.fake.state" and fake.closed
    assert gzip.decompress(made.path.read_bytes()) == fake.save_state()
    record = json.loads(made.sidecar.read_text())
    assert record["backend"] == "fake" and record["core"] == "fake core 1.0" and record["game_code"] == "AMCE"
    assert record["rom_sha1"] == check_rom(rom).sha1 and (record["course"], record["course_id"]) == ("yf", 22)
    assert record["race_frame"] == 1 and record["save"] == "100percent.sav" and fake.backup == str(save)
    assert fake.presses == [(f, held) for f, held in enumerate(script_frames(menu_script("yf"))) if held]
    assert record["frames_from_power_on"] == fake.frame == 1501  # menus, then until the race frame counter reads 1


def test_start_state_loads_by_name(tmp_path, monkeypatch):
    """Written to the user state folder as <name>.<backend>.state, the env finds it by name for that backend."""
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    save = tmp_path / "100percent.sav"
    save.write_bytes(b"\xff" * 1024)
    fake = FakeMkds(config=(25, 7, 21))
    fake.backend = "desmume"
    made = make_start_state(str(fake_nds(tmp_path / "m.nds")), "mc", character=7, kart=21, save=save,
                            open_emulator=_opener(fake))
    assert made.name == "mc-c7-k21" and made.path.parent == tmp_path / "data" / "states" / GAME
    integ = load_integration(GAME)
    assert integ.load_state_bytes("mc-c7-k21", "desmume") == fake.save_state()


def test_start_state_errors(tmp_path):
    save = tmp_path / "100percent.sav"
    save.write_bytes(b"\xff" * 1024)
    states = tmp_path / "states"
    with pytest.raises(RomCheckError, match="'NTRJ'"):
        make_start_state(str(fake_nds(tmp_path / "x.nds", "NTRJ")), "yf", save=save, folder=states, open_emulator=_never_open)
    rom = str(fake_nds(tmp_path / "mkds.nds"))
    with pytest.raises(StartStateError, match="no such save"):
        make_start_state(rom, "yf", save=tmp_path / "none.sav", folder=states, open_emulator=_never_open)
    with pytest.raises(UnknownCourseError):
        make_start_state(rom, "yoshi fall", save=save, folder=states, open_emulator=_never_open)

    fake = FakeMkds(config=(20, 0, 0))  # the menus reached Figure-8 Circuit, not Yoshi Falls
    with pytest.raises(StartStateError, match=r"course id 20 \(f8c.*expected 22 \(yf") as err:
        make_start_state(rom, "yf", save=save, folder=states, open_emulator=_opener(fake))
    assert "screenshot" in str(err.value) and (states / "yf.fake.failed.png").is_file() and fake.closed
    assert not (states / "yf.fake.state").exists()

    fake = FakeMkds(race_at=None)
    with pytest.raises(StartStateError, match=r"no race after \d+ frames.*scene state 0") as err:
        make_start_state(rom, "yf", save=save, folder=states, timeout_seconds=1, open_emulator=_opener(fake))
    assert (states / "yf.fake.failed.png").is_file()

    fake = FakeMkds(code="AMCP", config=(22, 0, 0))  # RAM says Europe, the header says USA
    with pytest.raises(StartStateError, match="game code in RAM"):
        make_start_state(rom, "yf", save=save, folder=states, open_emulator=_opener(fake))

    class NoSaves(FakeMkds):
        load_backup = None

    with pytest.raises(StartStateError, match="can't load a cartridge save"):
        make_start_state(rom, "yf", save=save, folder=states, open_emulator=_opener(NoSaves()))

    class NoA(FakeMkds):
        buttons = tuple(b for b in DS_BUTTONS if b != "A")

    with pytest.raises(StartStateError, match=r"script \(fake emulator\)\[1\]: unknown button 'A' \(buttons: B, Y"):
        make_start_state(rom, "yf", save=save, folder=states, open_emulator=_opener(NoA()))


# -- games check ----------------------------------------------------------------------------
def test_check_game_on_fake(tmp_path):
    from rich.console import Console

    save = tmp_path / "s.sav"
    save.write_bytes(b"\xff" * 64)
    rom = str(fake_nds(tmp_path / "mkds.nds"))
    out = io.StringIO()
    report = check_game(rom, seconds=1, save=save, live=False, console=Console(file=out, width=200),
                        open_emulator=_opener(FakeMkds(config=(20, 0, 0))))
    assert report.ok, report.problems
    assert report.game_code == "AMCE" and report.region_offset == 0 and len(report.samples) > 5
    assert "race_progress" in out.getvalue() and "all variables plausible" in out.getvalue()

    out = io.StringIO()
    report = check_game(rom, seconds=1, save=save, live=True, console=Console(file=out, width=200),
                        open_emulator=_opener(FakeMkds(config=(20, 0, 0), drives=False)))
    text = " ".join(report.problems)
    assert not report.ok and "speed: never above 0" in text and "race_progress: did not grow" in text
    assert "look wrong" in out.getvalue()


def test_diagnose():
    def sample(i, **kw):
        s = {n: f[4] for n, f in INFO_FACTS.items()}
        s.update(frame=i, race_frame=100 + i, speed=12.0, race_progress=0.01 + i * 1e-4, position_z=float(i),
                 lap=1, place=1, in_air=0, floor_type=0, course=22, character=0, kart=0)
        s.update(kw)
        return s

    good = [sample(i) for i in range(0, 120, 6)]
    assert diagnose(good, course=course_by_abbr("yf"), character=0, kart=0, game_code="AMCE", header_code="AMCE",
                    offset=0, expected_offset=0) == []
    assert any("first_lap" in p for p in diagnose([sample(i, lap=0) for i in range(0, 60, 6)]))
    assert any("race_frame" in p for p in diagnose([sample(i, race_frame=7) for i in range(0, 60, 6)]))
    assert any("course" in p for p in diagnose(good, course=course_by_abbr("f8c")))
    assert any("region offset" in p for p in diagnose(good, offset=0x20, expected_offset=0))
    assert any("scene_state" in p for p in diagnose([sample(i, scene_state=1) for i in range(0, 60, 6)]))
    assert diagnose([]) == ["no samples: the race did not run"]


# -- features: checkpoints and KCL rays -----------------------------------------------------
def _unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def prism_of(v1, v2, v3):
    """(height, face normal, edge normals 1-3) of a triangle: the inverse of the KCL formula."""
    v1, v2, v3 = (np.asarray(v, float) for v in (v1, v2, v3))
    n = _unit(np.cross(v2 - v1, v3 - v1))
    a = _unit(np.cross(n, v3 - v1))  # normal to edge v1-v3, away from v2
    a = -a if a @ (v2 - v1) > 0 else a
    b = _unit(np.cross(n, v2 - v1))  # normal to edge v1-v2, away from v3
    b = -b if b @ (v3 - v1) > 0 else b
    c = _unit(np.cross(n, v3 - v2))  # normal to edge v2-v3, away from v1
    c = -c if c @ (v1 - v2) > 0 else c
    return float((v2 - v1) @ c), n, a, b, c


def write_kcl(ram: FakeDs, header: int, at: int, triangles, attributes) -> None:
    """Lay a KCL out in RAM as the game holds it: vertices, normals, prisms, octree; header at ``header``."""
    verts, norms, prisms = [], [], []
    for (v1, v2, v3), attr in zip(triangles, attributes):
        h, n, a, b, c = prism_of(v1, v2, v3)
        prisms.append((fx(h), len(verts), len(norms), len(norms) + 1, len(norms) + 2, len(norms) + 3, attr))
        verts.append(v1)
        norms += [n, a, b, c]
    vb = b"".join(int(fx(x)).to_bytes(4, "little", signed=True) for v in verts for x in v)
    nb = b"".join(int(fx(x)).to_bytes(2, "little", signed=True) for v in norms for x in v)
    nb += b"\0" * (-len(nb) % 4)
    pb = b"".join(np.array([p], dtype=[("h", "<i4"), ("p", "<u2"), ("f", "<u2"), ("a", "<u2"), ("b", "<u2"),
                                       ("c", "<u2"), ("t", "<u2")]).tobytes() for p in prisms)
    pv, pn = at, at + len(vb)
    pp = pn + len(nb)
    ram.write_bytes(pv, vb + nb + pb)
    for i, ptr in enumerate((pv, pn, pp - 0x10, pp + len(pb))):
        ram.write(header + 4 * i, "<u4", ptr)


WALL, FLOOR = (1 << 14) | (8 << 8), (1 << 15) | (0 << 8)


def room(half=100.0, height=50.0):
    """A square room of wall prisms (x, z in [-half, half], y in [0, height]), a road floor, and a
    road-type vertical panel at z = 50 that rays must pass through."""
    h, y = half, height
    corners = [(-h, -h), (h, -h), (h, h), (-h, h)]
    tris, attrs = [], []
    for (x0, z0), (x1, z1) in zip(corners, corners[1:] + corners[:1]):
        tris += [((x0, 0, z0), (x1, 0, z1), (x1, y, z1)), ((x0, 0, z0), (x1, y, z1), (x0, y, z0))]
        attrs += [WALL, WALL]
    tris += [((-h, 0, -h), (h, 0, h), (h, 0, -h)), ((-h, 0, -h), (-h, 0, h), (h, 0, h))]
    attrs += [FLOOR, FLOOR]
    tris += [((0, 0, 50), (40, 0, 50), (40, y, 50)), ((0, 0, 50), (40, y, 50), (0, y, 50))]
    attrs += [FLOOR, FLOOR]
    return tris, attrs


def race_memory(code="AMCE"):
    off = REGIONS[code]
    facts = {
        "position_x": ("driver", 0x80, "<i4", fx(20.0), 20.0),
        "position_y": ("driver", 0x84, "<i4", fx(0.0), 0.0),
        "position_z": ("driver", 0x88, "<i4", fx(-30.0), -30.0),
        "checkpoint": ("status", 0x46, "<u2", 0, 0),
        "cpoi_count": ("map", 0x48, "<u4", 3, 3),
    }
    ram = build_memory(code, facts=facts)
    tris, attrs = room()
    write_kcl(ram, KCL_HEADER + off, KCL_AT, tris, attrs)
    cps = [(-50, -60, 50, -60), (-50, 60, 50, 60), (-60, -50, -60, 50)]
    for i, (x1, z1, x2, z2) in enumerate(cps):
        for j, val in enumerate((x1, z1, x2, z2)):
            ram.write(CPOI_AT + 0x24 * i + 4 * j, "<i4", fx(val))
    return ram, tris, attrs


@pytest.mark.parametrize("code", list(REGIONS))
def test_kcl_geometry_round_trip(code):
    ram, tris, attrs = race_memory(code)
    geo = read_kcl(ram)
    assert len(geo) == len(tris)
    np.testing.assert_allclose(geo.triangles, np.array(tris, float), atol=0.2)
    assert list(geo.types) == [8] * 8 + [0] * 4 and len(geo.select([8])) == 8


def test_rays_in_a_square_room():
    ram, _, _ = race_memory()
    walls = read_kcl(ram).select([8])
    origin = (20.0, 10.0, -30.0)
    left, ahead, right = cast_rays(origin, ray_directions((0, 1), 3, 180), walls, 3000)
    assert (left, ahead, right) == (pytest.approx(80, abs=0.2), pytest.approx(130, abs=0.2), pytest.approx(120, abs=0.2))
    diag = cast_rays(origin, ray_directions((0, 1), 3, 90), walls, 3000)
    assert diag[0] == pytest.approx(80 * math.sqrt(2), abs=0.3) and diag[2] == pytest.approx(120 * math.sqrt(2), abs=0.3)
    assert list(cast_rays(origin, ray_directions((0, 1), 5, 180), walls, 50)) == [50] * 5
    assert cast_rays((0, 80, 0), ray_directions((1, 0), 4, 360), walls, 3000).tolist() == [3000] * 4  # above the walls
    all_types = read_kcl(ram)
    assert cast_rays(origin, ray_directions((0, 1), 1, 0), all_types, 3000)[0] == pytest.approx(80, abs=0.2)  # the panel
    empty = KclGeometry.from_triangles(np.zeros((0, 3, 3)), np.zeros(0))
    assert cast_rays(origin, ray_directions((0, 1), 2, 90), empty, 7).tolist() == [7, 7]


@pytest.mark.parametrize("code", list(REGIONS))
def test_race_features(code):
    ram, _, _ = race_memory(code)
    feats = RaceFeatures(n_rays=3, fov_degrees=180, max_range=3000, ray_height=10)
    vec = feats(ram)
    assert vec.dtype == np.float32 and vec.shape == (6,) and feats.space().contains(vec)
    speed, angle, dist = vec[:3]
    assert speed == pytest.approx(18.5)
    assert angle == pytest.approx(math.atan2(20, 90), abs=1e-4)  # next checkpoint's middle (0, 60) is to the right
    assert dist == pytest.approx(90, abs=1e-3)
    np.testing.assert_allclose(vec[3:], [80, 130, 120], atol=0.2)
    ram.write(POINTERS["driver"] + REGIONS[code], "<u4", 0)  # between races
    np.testing.assert_array_equal(feats(ram), [0, 0, 0, 3000, 3000, 3000])


def test_features_cache_and_bad_header():
    ram, _, _ = race_memory()
    feats = RaceFeatures(n_rays=2)
    first = feats.walls(ram)
    assert feats.walls(ram) is first  # cached per course
    ram.write(STRUCTS["config"], "<i4", 20)  # another course id: read again
    assert feats.walls(ram) is not first
    ram.write(KCL_HEADER + 4, "<u4", 0x02000010)  # normals before vertices
    with pytest.raises(MemoryLayoutError, match="kcl_"):
        read_kcl(ram)


def test_features_wrapper():
    class Env(gym.Env):
        observation_space = gym.spaces.Box(0, 255, (4, 4, 3), np.uint8)
        action_space = gym.spaces.Discrete(2)

        def __init__(self):
            self.emulator = race_memory()[0]

        def reset(self, *, seed=None, options=None):
            return self.observation_space.sample(), {}

        def step(self, action):
            return self.observation_space.sample(), 0.0, False, False, {}

    env = RaceFeaturesObservation(Env(), RaceFeatures(n_rays=4))
    obs, _ = env.reset()
    assert set(obs) == {"observation", "features"} and obs["features"].shape == (7,)
    assert env.observation_space.contains(obs)
    env = RaceFeaturesObservation(Env(), RaceFeatures(n_rays=4), keep_observation=False)
    assert env.observation_space.shape == (7,) and env.step(0)[0].shape == (7,)


# -- curriculum -----------------------------------------------------------------------------
class OptionsEnv(gym.Env):
    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        self.last = options
        return 0, {"state_seen": options["state"]}

    def step(self, action):
        return 0, 0.0, False, False, {}


def test_curriculum_sampling():
    env = StartStateCurriculum(OptionsEnv(), ["a", "b", "c"], [6, 3, 1], seed=1)
    assert env.probabilities.tolist() == pytest.approx([0.6, 0.3, 0.1])
    drawn = [env.reset()[1]["start_state"] for _ in range(3000)]
    freq = {s: drawn.count(s) / len(drawn) for s in "abc"}
    assert freq["a"] == pytest.approx(0.6, abs=0.04) and freq["c"] == pytest.approx(0.1, abs=0.03)
    assert env.counts["a"] == drawn.count("a")
    again = StartStateCurriculum(OptionsEnv(), ["a", "b", "c"], [6, 3, 1], seed=1)
    assert [again.reset()[1]["start_state"] for _ in range(50)] == drawn[:50]
    first = [env.reset(seed=7)[1]["start_state"]] + [env.reset()[1]["start_state"] for _ in range(20)]
    second = [env.reset(seed=7)[1]["start_state"]] + [env.reset()[1]["start_state"] for _ in range(20)]
    assert first == second
    assert env.reset(options={"state": "c"})[1]["state_seen"] == "c"  # explicit wins
    env.set_weights([0, 0, 1])
    assert {env.reset()[1]["start_state"] for _ in range(20)} == {"c"}
    for bad in ([1, 2], [-1, 1, 1], [0, 0, 0], [float("nan"), 1, 1]):
        with pytest.raises(ValueError):
            env.set_weights(bad)
    with pytest.raises(ValueError):
        StartStateCurriculum(OptionsEnv(), [])


def test_curriculum_on_a_real_env(make_env, tmp_path, monkeypatch):
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path))
    env = make_env("Airstriker-Genesis", frame_skip=4)
    env.reset(seed=0, options={"state": "Level1"})
    for _ in range(60):
        env.step(1)
    path = save_state_here(env, "Level1later")
    assert path.parent == tmp_path / "states" / "Airstriker-Genesis" and path.read_bytes()[:2] == b"\x1f\x8b"
    later = env.unwrapped.get_state()
    env.reset(options={"state": "Level1"})
    start = env.unwrapped.get_state()
    cur = StartStateCurriculum(env, ["Level1", "Level1later"], [1, 1], seed=3)
    seen = {}
    for _ in range(8):
        obs, info = cur.reset()
        seen.setdefault(info["start_state"], obs.copy())
    assert set(seen) == {"Level1", "Level1later"}
    assert not np.array_equal(seen["Level1"], seen["Level1later"])
    assert later != start


# -- with the real game (EMURL_ROM_DIR) -----------------------------------------------------
def _real_rom():
    folder = os.environ.get("EMURL_ROM_DIR")
    roms = find_roms(folder) if folder and os.path.isdir(folder) else []
    if not roms:
        pytest.skip("needs a Mario Kart DS ROM (game code AMCE/AMCP/AMCJ) in EMURL_ROM_DIR")
    return roms[0]


def _real_save():
    from emurl.states.mkds import default_save

    candidates = [os.environ.get("EMURL_MKDS_SAVE"), default_save(),
                  Path(__file__).resolve().parents[1] / "fixtures" / "mkds" / "100percent.sav"]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    pytest.skip("needs an all-unlocked Mario Kart DS save (EMURL_MKDS_SAVE or tests/fixtures/mkds/100percent.sav)")


@pytest.mark.needs_rom
@pytest.mark.slow
def test_real_game_start_state_check_and_ppo(tmp_path, monkeypatch):
    rom, save = _real_rom(), _real_save()
    monkeypatch.setenv("EMURL_DATA_DIR", str(tmp_path / "data"))
    import_rom(rom.path)
    made = make_start_state(rom.path, "f8c", save=save)
    assert made.path.is_file() and made.record["course_id"] == 20

    report = check_game(rom.path, seconds=3, state="f8c", live=False)
    assert report.ok, report.problems

    import emurl

    env = emurl.make(GAME, state="f8c", backend="desmume", max_episode_steps=100)
    try:
        obs, info = env.reset(seed=0)
        total = 0.0
        for _ in range(100):
            obs, r, term, trunc, info = env.step(1)  # A
            total += r
            if term or trunc:
                break
        assert info["race_frame"] > 1 and total > 0
        feats = RaceFeatures()(env.unwrapped.emulator)
        assert feats.shape == (19,) and np.isfinite(feats).all()
    finally:
        env.close()

    from emurl.train.config import TrainConfig
    from emurl.train.run import train

    cfg = TrainConfig(game=GAME, state="f8c", backend="desmume", total_steps=64, num_envs=1, n_steps=32,
                      batch_size=32, n_epochs=1, eval_every=0, eval_max_steps=20, video=False,
                      max_episode_steps=50, checkpoint_every=64, runs_dir=str(tmp_path / "runs"))
    run_dir = train(cfg, progress_bar=False)
    assert (run_dir / "checkpoints" / "latest.zip").is_file()
