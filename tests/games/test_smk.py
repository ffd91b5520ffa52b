"""SuperMarioKart-Snes: variables and both scenarios on synthetic SNES work RAM, no ROM needed.

The memory map is laid out here from docs/facts/super-mario-kart.md (work-RAM offsets,
independently of ``data.json``), so a wrong address or type in ``data.json`` fails these
tests. Two kinds of RAM: :class:`FakeSnesRam` (128 KiB of work RAM read like stable-retro's
Snes9x map), and the real Snes9x core on a 32 KiB test ROM built here, whose only code
writes a race's start values, through a real env. The game itself: the last test, when
``EMURL_ROM_DIR`` holds its ROM.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import pytest

from emurl.envs import EmulatorEnv
from emurl.errors import IntegrationError
from emurl.games import load_integration
from emurl.games.smk.courses import COURSES
from emurl.games.smk.reward import CommunityOptions, RaceOptions
from emurl.games.variables import VariableReader

GAME = "SuperMarioKart-Snes"
WRAM = 0x7E0000
WRAM_SIZE = 0x20000

# name: (work-RAM offset, type, raw value, decoded value) -- docs/facts/super-mario-kart.md's table
FACTS = {
    "kart_x": (0x0088, "<i2", -300, -300),
    "kart_y": (0x008C, "<i2", 900, 900),
    "direction": (0x0095, "|u1", 192, 192),
    "speed": (0x10EA, "<i2", -12, -12),
    "velocity_east": (0x1022, "<i2", 700, 700),
    "velocity_south": (0x1024, "<i2", -700, -700),
    "lap": (0x10C1, "|u1", 130, 130),
    "checkpoint": (0x10DC, "|u1", 17, 17),
    "checkpoints_per_lap": (0x0148, "|u1", 30, 30),
    "surface": (0x10AE, "|u1", 84, 84),
    "kart_status": (0x10A0, "|u1", 2, 2),
    "rank": (0x1040, "|u1", 6, 6),
    "coins": (0x0E00, "|u1", 9, 9),
    "item": (0x0D70, "|u1", 4, 4),
    "game_mode": (0x00B5, "|u1", 0x1C, 0x1C),
    "course": (0x0124, "|u1", 7, 7),
    "backwards": (0x010B, "|u1", 0x13, 0x10),  # only bit 0x10 means backwards
    "timer_hundredths": (0x0100, "<d2", 0x0042, 42),  # BCD
    "timer_seconds": (0x0102, "<d2", 0x0059, 59),
    "timer_minutes": (0x0104, "<d2", 0x0001, 1),
}
P2 = {"speed", "velocity_east", "velocity_south", "lap", "checkpoint", "surface", "kart_status", "rank"}


class FakeSnesRam:
    """SNES work RAM (128 KiB at 0x7E0000, its first 8 KiB mirrored at 0x0000) read like
    stable-retro's Snes9x memory map: stable-retro types, little-endian, BCD ``d``."""

    def __init__(self):
        self.mem = bytearray(WRAM_SIZE)

    def _offset(self, address: int, size: int) -> int:
        if WRAM <= address and address + size <= WRAM + WRAM_SIZE:
            return address - WRAM
        if 0 <= address and address + size <= 0x2000:
            return address
        raise IndexError("No known mapping")  # what stable-retro's memory map raises

    def read(self, address: int, dtype: str) -> int:
        size, kind = int(dtype[-1]), dtype[-2]
        at = self._offset(address, size)
        raw = bytes(self.mem[at:at + size])
        raw = raw if ">" in dtype else raw[::-1]  # most significant first
        if kind == "d":
            return int("".join(f"{b >> 4}{b & 15}" for b in raw))
        return int.from_bytes(raw, "big", signed=kind == "i")

    def write(self, address: int, dtype: str, value: int) -> None:
        size = int(dtype[-1])
        at = self._offset(address, size)
        self.mem[at:at + size] = int(value & ((1 << 8 * size) - 1)).to_bytes(size, "little")

    def set(self, **raw: int) -> "FakeSnesRam":
        """Write raw values by variable name (``_p2`` names at player 1's offset + 0x100)."""
        for name, value in raw.items():
            base = name[:-3] if name.endswith("_p2") else name
            offset, dtype = FACTS[base][:2]
            self.write(WRAM + offset + (0x100 if name != base else 0), dtype, value)
        return self


def race_ram(**raw: int) -> FakeSnesRam:
    """RAM at a race's start: lap 128 (none done), checkpoint 0 of 30, on the road, racing, timer 0."""
    ram = FakeSnesRam().set(lap=128, checkpoint=0, checkpoints_per_lap=30, surface=64, backwards=0, game_mode=0x1C,
                            rank=0, timer_hundredths=0, timer_seconds=0, timer_minutes=0)
    return ram.set(**raw)


@pytest.fixture(scope="module")
def integ():
    return load_integration(GAME)


@pytest.fixture(scope="module")
def reader(integ):
    return VariableReader(integ.variables.values())


def test_variables_read_the_facts(integ, reader):
    ram = FakeSnesRam()
    for name, (offset, dtype, raw, _) in FACTS.items():
        ram.write(WRAM + offset, dtype, raw)
    values = reader(ram)
    assert {k: values[k] for k in FACTS} == {k: want for k, (_, _, _, want) in FACTS.items()}
    for name, (offset, dtype, _, _) in FACTS.items():  # the addresses are SNES bus addresses of work RAM
        assert integ.variables[name].address == WRAM + offset and integ.variables[name].dtype == dtype, name


def test_player_two_sits_0x100_after_player_one(reader):
    ram = race_ram(speed=5, speed_p2=-40, lap_p2=131, checkpoint_p2=3, surface_p2=128, rank_p2=2, kart_status_p2=4)
    values = reader(ram)
    assert (values["speed"], values["speed_p2"]) == (5, -40)
    assert (values["lap_p2"], values["checkpoint_p2"], values["surface_p2"], values["rank_p2"]) == (131, 3, 128, 2)
    assert values["kart_status_p2"] == 4 and values["lap"] == 128


def test_action_sets_and_rom_shas(integ):
    assert integ.action_sets["plan"] == [["B"], ["B", "LEFT"], ["B", "RIGHT"], ["B", "L"]]
    assert ["B", "A"] in integ.action_sets["items"] and all(c in integ.action_sets["items"] for c in integ.action_sets["plan"])
    assert len(integ.rom_shas) == 3 and integ.rom_shas[0] == "47e103d8398cf5b7cbb42b95df3a3c270691163b"  # USA, No-Intro
    assert integ.scenario().action_set == "plan"


def _run(scenario, ram: FakeSnesRam, reader, changes: list[dict]) -> list[tuple[float, bool, dict]]:
    """Reset ``scenario`` on ``ram``, then per step write ``changes[i]`` (raw values) and read
    reward, terminated and info through the integration's variables."""
    scenario.reset(reader(ram))
    out = []
    for change in changes:
        values = reader(ram.set(**change))
        out.append((scenario.reward(values), scenario.terminated(values), scenario.info(values)))
    return out


def test_founding_plan_reward(integ, reader):
    race = integ.scenario("scenario").load_python()
    assert race.options == RaceOptions()  # scenario.json spells out the defaults
    steps = _run(race, race_ram(), reader, [
        {"checkpoint": 1},                       # +300 - 1
        {"checkpoint": 2, "surface": 128},       # +300 - 10 (a wall hit) - 1
        {"surface": 128},                        # still on the wall: no second hit: -1
        {"surface": 84},                         # off-road: -15 - 1
        {"surface": 64, "backwards": 0x10},      # backwards: -2 - 1
        {"backwards": 0, "checkpoint": 29},      # +27 checkpoints
        {"checkpoint": 0, "lap": 129},           # the line: 29 -> 30, +300 - 1
        {"checkpoint": 29, "lap": 128},          # back over the line: -1 checkpoint
    ])
    assert [r for r, _, _ in steps] == [299.0, 289.0, -1.0, -16.0, -3.0, 27 * 300 - 1.0, 299.0, -301.0]
    assert not any(t for _, t, _ in steps)
    info = steps[6][2]
    assert (info["progress"], info["delta_progress"], info["laps_done"], info["place"]) == (30, 1, 1, 1)
    assert steps[1][2]["wall_hit"] and not steps[2][2]["wall_hit"] and steps[3][2]["offroad"] and steps[4][2]["backwards"]


def test_founding_plan_ends_at_five_laps_or_early(integ, reader):
    race = integ.scenario().load_python()
    *_, (r, done, info) = _run(race, race_ram(lap=132, checkpoint=29), reader, [{"lap": 133, "checkpoint": 0}])
    assert done and info["finished"] and info["end"] == "finished" and r == 299.0

    # no checkpoint for 10 s of race time (the BCD timer): stuck
    steps = _run(race, race_ram(checkpoint=4, timer_seconds=0x05), reader, [
        {"timer_seconds": 0x10}, {"timer_seconds": 0x14, "timer_hundredths": 0x99}, {"timer_seconds": 0x15}])
    assert [(t, i["end"]) for _, t, i in steps] == [(False, ""), (False, ""), (True, "stuck")]
    steps = _run(race, race_ram(timer_seconds=0x05), reader, [{"timer_seconds": 0x14, "checkpoint": 1}, {"timer_seconds": 0x23}])
    assert [t for _, t, _ in steps] == [False, False]  # a checkpoint at 14 s restarts the count

    # the game left racing (e.g. the results screen after a crash out)
    *_, (_, done, info) = _run(race, race_ram(), reader, [{"game_mode": 0x02}])
    assert done and info["end"] == "not_racing"
    # counters reset between races (progress falls by more than max_drop): no progress term
    *_, (r, _, _) = _run(race, race_ram(lap=131, checkpoint=10), reader, [{"lap": 128, "checkpoint": 0}])
    assert r == -1.0


def test_community_reward_and_ends(integ, reader):
    race = integ.scenario("scenario_community").load_python()
    assert race.options == CommunityOptions()
    steps = _run(race, race_ram(), reader, [
        {"checkpoint": 3},                   # 10 x 3
        {"surface": 128},                    # wall: -1
        {"surface": 34},                     # deep water (a fall): -1
        {"surface": 64, "checkpoint": 0, "lap": 129},  # 3 -> 30 checkpoints: +270
        {"surface": 84},                     # off-road costs nothing here
    ])
    assert [r for r, _, _ in steps] == [30.0, -1.0, -1.0, 270.0, 0.0]
    assert not any(t for _, t, _ in steps)

    *_, (_, done, info) = _run(race, race_ram(), reader, [{"game_mode": 0x00}])
    assert done and info["end"] == "not_racing"
    *_, (_, done, info) = _run(race, race_ram(lap=132, checkpoint=29), reader, [{"lap": 133, "checkpoint": 0}])
    assert done and info["end"] == "finished"


def _walls_end_at(race, reader, wall_steps: set[int], n: int) -> int | None:
    """The step (1-based) at which walls at ``wall_steps`` end the episode, or None within ``n``."""
    ram = race_ram()
    race.reset(reader(ram))
    for step in range(1, n + 1):
        values = reader(ram.set(surface=128 if step in wall_steps else 64))
        race.reward(values)
        if race.terminated(values):
            return step
    return None


def test_community_five_wall_hits_within_500_steps(integ, reader):
    race = integ.scenario("scenario_community").load_python()
    assert _walls_end_at(race, reader, {1, 100, 200, 300, 450}, 800) == 450
    assert _walls_end_at(race, reader, {1, 200, 400, 600, 800}, 900) is None  # never 5 in any 500 steps
    assert _walls_end_at(race, reader, {10, 11, 12, 13}, 600) is None


def test_bad_race_options_name_the_file_and_key(integ, tmp_path):
    from emurl.games.scenario import load_scenario

    path = tmp_path / "bad.json"
    path.write_text('{"python": "smk.py:Race", "race": {"laps": "five"}}')
    (tmp_path / "smk.py").write_text((integ.folder / "smk.py").read_text())
    with pytest.raises(IntegrationError, match=r"bad\.json: race\.laps: expected a whole number"):
        load_scenario(str(path)).load_python()
    path.write_text('{"python": "smk.py:CommunityRace", "race": {"walls": 5}}')
    with pytest.raises(IntegrationError, match=r"bad\.json: race: unknown key\(s\) \['walls'\]"):
        load_scenario(str(path)).load_python()


def test_start_state_scripts_cover_the_open_courses(integ):
    from emurl.states.scripts import load_scripts

    scripts = load_scripts(integ)
    assert sorted(scripts) == sorted(c.state for c in COURSES if c.cup < 3)
    for name, script in scripts.items():  # every script ends waiting for the race
        assert script[-1]["until"] == {"game_mode": 0x1C}, name


# -- the real Snes9x core on a test ROM --------------------------------------------------------
_START = [  # 65816, emulation mode, data bank 0: work RAM's low mirror is $0000-$1FFF
    0x78,                                                  # SEI
    0xA9, 0x1C, 0x8D, 0xB5, 0x00,                          # game_mode = 0x1C
    0xA9, 0x80, 0x8D, 0xC1, 0x10,                          # lap = 128
    0xA9, 0x1E, 0x8D, 0x48, 0x01,                          # checkpoints_per_lap = 30
    0xA9, 0x40, 0x8D, 0xAE, 0x10,                          # surface = 64 (road)
    0x9C, 0xDC, 0x10, 0x9C, 0x0B, 0x01, 0x9C, 0x40, 0x10,  # checkpoint, backwards, rank = 0
    *[b for a in range(0x0100, 0x0106) for b in (0x9C, a & 0xFF, a >> 8)],  # timer = 0
    0x80, 0xFE,                                            # BRA *: nothing else writes RAM
]


def snes_test_rom(path: Path) -> Path:
    """A 32 KiB LoROM whose reset code writes a race's start values, then loops."""
    rom = bytearray(b"\xFF" * 0x8000)
    rom[:len(_START)] = bytes(_START)
    header = 0x7FC0
    rom[header:header + 21] = b"EMURL SMK TEST".ljust(21)
    rom[header + 21:header + 28] = bytes([0x20, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00])  # LoROM, 32 KiB, no SRAM
    struct.pack_into("<H", rom, 0x7FFC, 0x8000)  # reset vector
    struct.pack_into("<HH", rom, header + 28, 0xFFFF, 0)
    checksum = sum(rom) & 0xFFFF
    struct.pack_into("<HH", rom, header + 28, checksum ^ 0xFFFF, checksum)
    path.write_bytes(rom)
    return path


def test_env_on_snes9x_reads_work_ram_and_pays_the_scenario(tmp_path):
    from emurl.emulators import open_emulator

    emu = open_emulator(str(snes_test_rom(tmp_path / "smk-test.sfc")), "Snes", "retro")
    env = EmulatorEnv(GAME, state=None, emulator=emu, frame_skip=2, render_mode=None, obs_type="variables")
    try:
        assert env.action_space.n == 4 and env.combos == [["B"], ["B", "LEFT"], ["B", "RIGHT"], ["B", "L"]]
        _, info = env.reset(seed=0)
        assert (info["game_mode"], info["lap"], info["checkpoints_per_lap"], info["surface"]) == (0x1C, 128, 30, 64)
        ram = env.unwrapped.emulator
        rewards = []
        for change in ({"checkpoint": 1}, {"surface": 128}, {"checkpoint": 0, "lap": 133}):
            for name, value in change.items():
                offset, dtype = FACTS[name][:2]
                ram.write(WRAM + offset, dtype, value)
            _, r, terminated, truncated, info = env.step(0)
            rewards.append(r)
        assert rewards == [299.0, -11.0, (5 * 30 - 1) * 300 - 1.0]
        assert terminated and not truncated and info["end"] == "finished" and info["laps_done"] == 5
        assert ram.read(0x10C1, "|u1") == 133  # the low mirror is the same memory
    finally:
        env.close()


# -- the game (EMURL_ROM_DIR) ------------------------------------------------------------------
def _real_rom(integ) -> Path:
    folder = os.environ.get("EMURL_ROM_DIR")
    if folder and os.path.isdir(folder):
        for p in sorted(Path(folder).rglob("*")):
            if p.suffix.lower() == ".sfc" and hashlib.sha1(p.read_bytes()).hexdigest() in integ.rom_shas:
                return p
    pytest.skip("needs a Super Mario Kart ROM (USA, Europe or Japan .sfc, SHA-1 in rom.sha) in EMURL_ROM_DIR")


@pytest.mark.needs_rom
def test_real_game_time_trial_start_state(integ, tmp_path):
    """The menu script of start_states.json reaches a Time Trial race on the real game."""
    from emurl.emulators import open_emulator
    from emurl.fileio import read_state
    from emurl.states.scripts import load_scripts, make_start_state

    rom = _real_rom(integ)
    made = make_start_state(integ, "MarioCircuit1", load_scripts(integ)["MarioCircuit1"], "retro", tmp_path, rom=str(rom))
    emu = open_emulator(str(rom), "Snes", "retro")
    try:
        emu.load_state(read_state(made.path))
        values = VariableReader(integ.variables.values())(emu)
        assert values["game_mode"] == 0x1C and values["checkpoints_per_lap"] > 0
    finally:
        emu.close()


# -- emurl games check ------------------------------------------------------------------------
def _sample(frame: int, **raw) -> dict:
    """Variables of a kart driving well, ``frame`` frames into the judged seconds."""
    t = frame / 60.0988
    v = dict(game_mode=0x1C, lap=128, checkpoint=int(t * 2), checkpoints_per_lap=30, speed=600, kart_x=900 + int(40 * t),
             kart_y=500, rank=0, backwards=0, timer_minutes=0, timer_seconds=4 + int(t), timer_hundredths=int(t * 100) % 100)
    v.update(raw, frame=frame)
    return v


def test_diagnose_names_each_wrong_variable():
    from emurl.games.smk.check import diagnose

    good = [_sample(f) for f in range(0, 301, 6)]
    assert diagnose(good) == []
    for raw, word in (({"game_mode": 2}, "game_mode"), ({"speed": 0}, "speed"), ({"kart_x": 900}, "kart_x"),
                      ({"timer_seconds": 4, "timer_hundredths": 0}, "timer"), ({"rank": 3}, "rank"),
                      ({"backwards": 0x10}, "backwards"), ({"lap": 40}, "lap"), ({"checkpoint": 0}, "progress")):
        problems = diagnose([dict(s, **raw) for s in good])
        assert any(word in p for p in problems), (raw, problems)
    assert diagnose([]) == ["no samples: the race did not run"]


def test_games_check_runs_the_script_and_judges(tmp_path):
    """On the test ROM (racing from power-on, nothing moving) the check reaches the 'race' and
    finds the kart standing still."""
    from rich.console import Console

    from emurl.states.smk_check import check_game

    console = Console(file=open(os.devnull, "w"), width=120)
    report = check_game(snes_test_rom(tmp_path / "smk-test.sfc"), seconds=1, console=console)
    assert not report.known_rom and len(report.samples) >= 9
    assert report.samples[-1]["game_mode"] == 0x1C and report.samples[-1]["lap"] == 128
    assert any("kart_x" in p for p in report.problems) and any("progress did not grow" in p for p in report.problems)
    assert not report.ok
