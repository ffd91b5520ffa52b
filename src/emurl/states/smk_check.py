"""``emurl games check SuperMarioKart-Snes``: reach a Time Trial, drive, judge the variables.

Nothing in the integration was checked on a running game (no ROM was at hand), so this is
the first thing to run on yours: it reaches a race (the course's input script of
``start_states.json`` from power-on, or a start state you made), holds B through the
countdown and a few seconds of driving, shows every variable and where it was read, and
says which behave unlike the facts (:func:`emurl.games.smk.check.diagnose`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from emurl.emulators import open_emulator as _open_emulator
from emurl.errors import EmurlError
from emurl.fileio import read_state
from emurl.games.integration import load_integration, sha1_of_rom
from emurl.games.smk import GAME
from emurl.games.smk.check import diagnose
from emurl.states.scripts import load_scripts, run_script

COUNTDOWN_SECONDS = 4.0
"""Game time B is held before samples are judged (the countdown is shorter)."""
SAMPLE_FRAMES = 6


@dataclass
class SmkCheckReport:
    """What :func:`check_game` saw: the ROM's SHA-1 and whether ``rom.sha`` lists it, the
    samples (variables plus ``frame``) and one line per variable that looks wrong."""

    rom: str
    sha1: str
    known_rom: bool
    samples: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_game(rom: str | os.PathLike | None = None, seconds: float = 5.0, course: str = "MarioCircuit1",
               state: str | None = None, console=None, open_emulator: Callable | None = None) -> SmkCheckReport:
    """Reach a race on ``rom``, hold B for ``seconds`` after the countdown, judge the variables.

    Args:
        rom: the .sfc file (default: the imported ROM).
        seconds: game time judged after :data:`COUNTDOWN_SECONDS`.
        course: the start-state script to run from power-on (``start_states.json``'s names).
        state: a start state of this game (name or ``.state`` path) instead of the script.
        console: a ``rich.console.Console`` to print to (default: stdout).
        open_emulator: stand-in for :func:`emurl.emulators.open_emulator` (tests).

    Raises:
        EmurlError: no ROM given or imported, or an unknown course. StartStateError: the
            script did not reach a race.
    """
    from rich.console import Console  # lazy: 0.03-0.06 s, and `emurl` imports cli modules for every verb
    from rich.table import Table

    console = console or Console()
    integ = load_integration(GAME)
    rom = str(rom or integ.rom_path() or "")
    if not rom:
        raise EmurlError(f"{GAME}: no ROM given and none imported; pass --rom PATH or run `emurl roms import PATH`")
    sha1 = sha1_of_rom(rom)
    known = sha1 in integ.rom_shas
    console.print(f"{rom}: SHA-1 {sha1} ({'a dump rom.sha lists' if known else 'NOT in rom.sha: another release or a headered file'})")
    scripts = load_scripts(integ)
    if state is None and course not in scripts:
        raise EmurlError(f"{GAME}: no start-state script {course!r} (scripts: {', '.join(scripts)})")
    emu = (open_emulator or _open_emulator)(rom, integ.system, "retro")
    try:
        if state is not None:
            emu.load_state(read_state(state) if state.endswith(".state") else integ.load_state_bytes(state, emu.backend))
        else:
            run_script(emu, scripts[course], integ.variables, where=f"{GAME} {course} script")
        variables = list(integ.variables.values())
        buttons = list(emu.buttons)
        hold = np.zeros(len(buttons), np.uint8)
        hold[buttons.index("B")] = 1
        emu.set_buttons(hold, 0)
        rate = float(getattr(emu, "frame_rate", 60.0))
        countdown, total = int(COUNTDOWN_SECONDS * rate), int((COUNTDOWN_SECONDS + seconds) * rate)
        samples: list[dict] = []
        for frame in range(SAMPLE_FRAMES, total + 1, SAMPLE_FRAMES):
            emu.step(SAMPLE_FRAMES)
            if frame > countdown:
                samples.append(dict({v.name: v.read(emu) for v in variables}, frame=frame - countdown))
    finally:
        emu.close()
    table = Table(title=f"{GAME}: variables over {seconds:g} s of driving")
    for col in ("variable", "address", "first", "last"):
        table.add_column(col)
    for v in variables:
        first, last = (samples[0][v.name], samples[-1][v.name]) if samples else ("", "")
        table.add_row(v.name, f"{v.address:#08x}", str(first), str(last))
    console.print(table)
    problems = diagnose(samples, rate)
    if problems:
        console.print(f"[bold red]{len(problems)} variable(s) look wrong[/]; how to fix an address: README.md in {integ.folder}")
        for p in problems:
            console.print(f"  - {p}")
    else:
        console.print("[bold green]all variables plausible[/]")
    return SmkCheckReport(rom, sha1, known, samples, problems)


__all__ = ["SmkCheckReport", "check_game"]
