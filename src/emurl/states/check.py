"""``emurl games check MarioKartDS-NintendoDs``: reach a race, show the variables live, judge them.

Nothing in the integration's memory map was checked on a running game (no ROM was at
hand when it was written), so this is the first thing to run on yours: it checks the ROM's
game code, reaches a Time Trial race (menus driven from power-on with an all-unlocked
save, or a start state you made), holds A for the countdown and a few seconds of driving
while a table of every ``data.json`` variable updates live, then says which variables
behave unlike what they should be (speed still 0 with A held, race progress not growing,
a lap counter that does not match the scenario's ``first_lap``, ...) and where each was
read, so that a wrong address can be found and fixed (README.md beside ``data.json``).
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from emurl.emulators import open_emulator as _open_emulator
from emurl.errors import EmurlError
from emurl.games.mkds import game
from emurl.games.mkds.courses import Course, find_course
from emurl.states.mkds import open_race
from emurl.states.mkds_rom import RomInfo, check_rom, game_code_in_memory, region_offset

COUNTDOWN_SECONDS = 4.0
"""Game time held before judging (the countdown before GO is shorter)."""
REFRESH_FRAMES = 6


@dataclass
class CheckReport:
    """What :func:`check_game` saw.

    Attributes:
        rom: the checked ROM.
        backend: the emulator backend used.
        game_code: the game code read from RAM (0x023FFA8C).
        region_offset: ``u32[0x02000B54] - 0x0216F320`` (None if it read 0).
        course: the course asked for (None when a start state was given).
        samples: the variables every few frames while driving (dicts; ``frame`` = frames
            since race frame 1).
        problems: one line per variable that looks wrong, with the fix to try.
    """

    rom: RomInfo
    backend: str
    game_code: str
    region_offset: int | None
    course: Course | None
    samples: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def describe_address(var, emulator) -> str:
    """Where ``var`` was read: ``0x0217ACF8 -> 0x022A1B40 + 0x2A8`` (pointer chain resolved)."""
    base = var.resolve_address(emulator)
    if base is None:
        return f"{var.address:#010x} (offset source reads 0)"
    text = f"{base:#010x}"
    if var.pointer:
        ptr = emulator.read(base, var.pointer_dtype)
        for off in var.pointer[:-1]:
            text += f" -> {ptr:#010x} + {off:#x}"
            ptr = emulator.read(ptr + off, var.pointer_dtype) if ptr else 0
        text += f" -> {ptr:#010x} + {var.pointer[-1]:#x}"
    return text


def diagnose(
    samples: Sequence[dict],
    *,
    course: Course | None = None,
    character: int | None = None,
    kart: int | None = None,
    game_code: str | None = None,
    header_code: str | None = None,
    offset: int | None = None,
    expected_offset: int | None = None,
    first_lap: int = 1,
) -> list[str]:
    """Problems in samples taken while holding A after the countdown (empty list: all plausible).

    Args:
        samples: dicts of the ``"info"`` variables plus ``frame`` (frames since the first
            sample's race start), in time order.
        course, character, kart: what the race should be (None: not checked).
        game_code, header_code: game code in RAM and in the ROM header.
        offset, expected_offset: the region offset read and the one ``metadata.json``
            expects for the game code.
        first_lap: the scenario's ``first_lap``.

    Returns:
        One line per problem: the variable, what it did, and what to check.
    """
    out: list[str] = []
    if game_code is not None and header_code is not None and game_code != header_code:
        out.append(f"game_code: RAM 0x023FFA8C reads {game_code!r} but the ROM header says {header_code!r}")
    if expected_offset is not None and offset != expected_offset:
        out.append(
            f"region offset: u32[0x02000B54] - 0x0216F320 = {offset if offset is None else hex(offset)}, expected "
            f"{expected_offset:#x} for this release (metadata.json region_offsets): every address_offset is off"
        )
    if not samples:
        return out + ["no samples: the race did not run"]
    first, last = samples[0], samples[-1]
    frames = last["frame"] - first["frame"]
    adv = last["race_frame"] - first["race_frame"]
    if adv <= 0:
        out.append(f"race_frame: did not advance ({first['race_frame']} -> {last['race_frame']}); check race_state_t +0x4")
    elif frames and abs(adv - frames) > max(2, 0.05 * frames):
        out.append(f"race_frame: advanced {adv} over {frames} emulated frames; expected one per frame")
    speeds = [float(s["speed"]) for s in samples]
    if max(speeds) <= 0:
        out.append("speed: never above 0 with A held; check driver_t +0x2A8 and the racer pointer")
    elif max(abs(x) for x in speeds) > 1000:
        out.append(f"speed: {max(speeds):g} world units per frame is implausible; check its type and fx32 scale")
    if all(float(s["max_speed"]) <= 0 for s in samples):
        out.append("max_speed: never above 0; check driver_t +0xD0")
    moved = math.hypot(float(last["position_x"]) - float(first["position_x"]),
                       float(last["position_z"]) - float(first["position_z"]))
    if moved < 1.0:
        out.append(f"position_x/z: moved {moved:.2f} units while driving; check driver_t +0x80/+0x88")
    p0, p1 = float(first["race_progress"]), float(last["race_progress"])
    if p1 <= p0:
        out.append(f"race_progress: did not grow ({p0:.4f} -> {p1:.4f}); check race_status_t +0x58")
    if max(abs(float(s["race_progress"])) for s in samples) > 10:
        out.append("race_progress: above 10 laps; wrong address, type or scale")
    if any(int(s["scene_state"]) != 2 for s in samples):
        out.append(f"scene_state: read {sorted({int(s['scene_state']) for s in samples})}, expected 2 throughout a race")
    places = {int(s["place"]) for s in samples}
    if not places <= set(range(0, 9)):
        out.append(f"place: read {sorted(places)}, expected 1-8; check driver_t +0x3D8")
    if any(not 0 <= int(s["floor_type"]) < 32 for s in samples):
        out.append("floor_type: above 31, not a KCL collision type; check driver_t +0x3E0")
    if all(int(s["in_air"]) != 0 for s in samples):
        out.append("in_air: never 0 while driving off the start line; check driver_t +0x3DD")
    laps = sorted({int(s["lap"]) for s in samples if float(s["race_progress"]) < 0.9})
    if laps and laps != [first_lap]:
        out.append(
            f"lap: reads {laps} during the first lap but the scenario's first_lap is {first_lap}: "
            f"set \"first_lap\": {laps[-1]} in the scenario's \"race\" object (or check race_status_t +0x38)"
        )
    if course is not None and int(last["course"]) != course.internal_id:
        out.append(f"course: reads {last['course']}, expected {course.internal_id} ({course.abbr}); check race config +0x0")
    if character is not None and int(last["character"]) != character:
        out.append(f"character: reads {last['character']}, expected {character}; check race config +0x68")
    if kart is not None and int(last["kart"]) != kart:
        out.append(f"kart: reads {last['kart']}, expected {kart}; check race config +0x6C")
    return out


def _table(variables, values, start, where):
    from rich.table import Table  # lazy, as in check_game

    t = Table(title=f"{game.GAME}: live variables", show_lines=False)
    for col in ("variable", "read at", "value", "change"):
        t.add_column(col, justify="right" if col in ("value", "change") else "left")
    for v in variables:
        val, v0 = values.get(v.name, 0), start.get(v.name, 0)
        fmt = (lambda x: f"{x:.4f}") if v.scale else (lambda x: f"{int(x)}")
        t.add_row(v.name, where.get(v.name, ""), fmt(val), fmt(val - v0))
    return t


def check_game(
    rom: str | os.PathLike | None = None,
    seconds: float = 5.0,
    backend: str = "desmume",
    save: str | os.PathLike | None = None,
    course: Course | str = "f8c",
    state: str | None = None,
    live: bool = True,
    console=None,
    open_emulator: Callable | None = None,
) -> CheckReport:
    """Check the ROM, reach a race, drive for ``seconds`` holding A, and judge the variables.

    Args:
        rom: the .nds file (default: the imported ROM, see ``emurl mkds import-rom``).
        seconds: game time judged after :data:`COUNTDOWN_SECONDS` of countdown.
        backend: ``"desmume"`` or ``"melonds"`` (melonds needs ``state``: it can't load saves).
        save: all-unlocked save for the menus (see :func:`emurl.states.mkds.default_save`).
        course: the course the menus pick (abbreviation or name).
        state: a start state name of this game (or a ``.state`` path) instead of the menus.
        live: show the live table (rich) while driving; False prints only the summary.
        console: a ``rich.console.Console`` to print to (default: stdout).
        open_emulator: stand-in for :func:`emurl.emulators.open_emulator` (tests).

    Returns:
        :class:`CheckReport`; ``report.ok`` is False when a variable looks wrong.

    Raises:
        RomCheckError: not a Mario Kart DS ROM. StartStateError: no race (see
            :func:`~emurl.states.mkds.open_race`). EmurlError: no ROM given
            or imported.
    """
    # lazy: rich costs 0.03-0.06 s to import, and `emurl` imports this module for every verb
    from rich.console import Console
    from rich.live import Live

    console = console or Console()
    integ = game.integration()
    if rom is None:
        rom = integ.rom_path()
        if rom is None:
            raise EmurlError(f"{game.GAME}: no ROM given and none imported; pass --rom PATH or run `emurl mkds import-rom PATH`")
    info = check_rom(rom)
    console.print(f"{info.path}: {info.title} {info.game_code} ({info.region}), SHA-1 {info.sha1}")
    asked = None
    if state:
        emu = (open_emulator or _open_emulator)(str(rom), "NintendoDs", backend)
        try:
            emu.load_state(integ.load_state_bytes(state, emu.backend))
        except BaseException:
            emu.close()
            raise
    else:
        asked = find_course(course)
        emu, _ = open_race(str(rom), asked, 0, 0, backend, save, open_emulator=open_emulator)
    try:
        code, offset = game_code_in_memory(emu), region_offset(emu)
        variables = list(game.info_variables().values())
        where = {v.name: describe_address(v, emu) for v in variables}
        rate = float(getattr(emu, "frame_rate", game.FRAME_RATE))
        buttons = list(emu.buttons)
        hold = np.zeros(len(buttons), np.uint8)
        hold[buttons.index("A")] = 1
        emu.set_buttons(hold, 0)
        countdown = int(COUNTDOWN_SECONDS * rate)
        total = countdown + int(seconds * rate)
        start = {v.name: v.read(emu) for v in variables}
        samples: list[dict] = []
        values = start
        shown_ctx = (Live(_table(variables, start, start, where), console=console, refresh_per_second=8)
                     if live else contextlib.nullcontext())
        with shown_ctx as shown:
            frame = 0
            while frame < total:
                n = min(REFRESH_FRAMES, total - frame)
                emu.step(n)
                frame += n
                values = {v.name: v.read(emu) for v in variables}
                if frame > countdown:
                    samples.append(dict(values, frame=frame))
                if shown is not None:
                    shown.update(_table(variables, values, start, where))
        if not live:
            console.print(_table(variables, values, start, where))
    finally:
        emu.close()
    problems = diagnose(
        samples, course=asked, character=0 if asked else None, kart=0 if asked else None,
        game_code=code, header_code=info.game_code, offset=offset,
        expected_offset=game.region_offsets().get(info.game_code),
        first_lap=int(integ.scenario().raw.get("race", {}).get("first_lap", 1)),
    )
    report = CheckReport(info, backend, code, offset, asked, samples, problems)
    if problems:
        console.print(f"[bold red]{len(problems)} variable(s) look wrong[/]; how to fix an address: README.md in {integ.folder}")
        for p in problems:
            console.print(f"  - {p}")
    else:
        shown_offset = offset if offset is None else hex(offset)
        console.print(f"[bold green]all variables plausible[/] over {seconds:g} s of driving "
                      f"({info.region}, region offset {shown_offset})")
    return report


__all__ = ["CheckReport", "check_game", "describe_address", "diagnose"]
