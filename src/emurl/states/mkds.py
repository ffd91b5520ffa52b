"""Make a Time Trial start state: power on, drive the menus, stop at race frame 1, save.

The menu inputs are the marIOkart recorder's (docs/facts/mario-kart-ds.md, "Reaching a Time
Trial race from power-on"), from power-on with a save that has every course unlocked
loaded as the cartridge's backup memory (e.g. ``100percent.sav``). :func:`menu_script`
gives them as an input script of emurl's one format (:mod:`emurl.states.scripts`:
``{"wait": frames}`` and ``{"press": button}`` steps), and :func:`start_script` adds the
wait for the race as an ``until`` step; both are played by
:func:`emurl.states.scripts.run_script`. One press holds a button for one frame, then
releases it:

1. wait 360 frames, press A (title screen);
2. wait 110, press DOWN, press A, wait 45, press A (single player, time trial);
3. wait 45; the character grid has 4 columns holding character ids
   :data:`CHARACTER_GRID`: RIGHT and DOWN to the character (7 frames after each),
   press A, wait 30;
4. karts are listed 3 per character in that order, starting at the chosen character:
   RIGHT to the kart (7 frames after each), press A. emurl takes kart id ``k`` to be
   character ``k // 3``'s kart ``k % 3`` (not in the facts: the race config check below
   catches it if wrong);
5. wait 160; the cups are a grid of 4 columns: RIGHT/DOWN to cup ``order // 4`` (7
   frames after each), press A, wait 55, DOWN ``order % 4`` times (7 frames after each),
   press A, wait 15, press A;
6. run until the racer pointer is non-zero, the scene state is 2 and the race frame
   counter has counted (:data:`RACE_START`); it must then read 1: the start of the race
   (the countdown follows).

The race config then must hold the course's internal id (``+0x0``), the character
(``+0x68``) and the kart (``+0x6C``); if not, or if the race does not start in time,
:class:`StartStateError` says what was found and a screenshot (PNG) is written beside
where the state would have gone.

:func:`make_start_state` goes through the one start-state path,
:func:`emurl.states.scripts.make_start_state`, with this game's checks as hooks (the save
loaded before the script; the race frame, race config and game code checked after it).
The state is written to the game's user state folder (``Integration.user_state_dir()``,
``<data dir>/states/MarioKartDS-NintendoDs/``) as ``<name>.<backend>.state`` (gzip, as
stable-retro's; a state loads only on the backend that made it), with a JSON sidecar
``<name>.<backend>.json`` recording the backend, its core version, the ROM's SHA-1 and
game code, the course, character and kart.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

from emurl.games.integration import data_dir
from emurl.games.mkds import game
from emurl.games.mkds.courses import Course, UnknownCourseError, course_by_id, find_course
from emurl.states.mkds_rom import check_rom, game_code_in_memory
from emurl.states.scripts import StartState, StartStateError, base_record, open_and_run, run_script
from emurl.states.scripts import make_start_state as make_state

CHARACTER_GRID = (0, 7, 4, 6, 2, 1, 5, 3, 9, 8, 10, 11)
"""Character ids in the character select grid, row by row, 4 columns (facts)."""
GRID_COLUMNS = 4
MOVE_WAIT = 7
"""Frames waited after each cursor move in a menu (facts: 7 in the character grid)."""
N_KARTS = 36
DEFAULT_SAVE_NAME = "100percent.sav"


# -- the menu script ------------------------------------------------------------------------
def kart_position(character: int, kart: int) -> int:
    """RIGHT presses from the kart menu's first kart to ``kart`` for ``character``.

    Raises:
        ValueError: character not 0-11 or kart not 0-35.
    """
    if character not in CHARACTER_GRID:
        raise ValueError(f"character must be an id 0-11, got {character!r}")
    if not (isinstance(kart, int) and 0 <= kart < N_KARTS):
        raise ValueError(f"kart must be an id 0-{N_KARTS - 1}, got {kart!r}")
    owner, slot = divmod(kart, 3)
    n = len(CHARACTER_GRID)
    return 3 * ((CHARACTER_GRID.index(owner) - CHARACTER_GRID.index(character)) % n) + slot


def _wait(frames: int) -> dict:
    return {"wait": frames}


def _press(button: str) -> dict:
    return {"press": button}


def _moves(index: int) -> list[dict]:
    row, col = divmod(index, GRID_COLUMNS)
    out: list[dict] = []
    for button, times in (("RIGHT", col), ("DOWN", row)):
        for _ in range(times):
            out += [_press(button), _wait(MOVE_WAIT)]
    return out


def menu_script(course: Course | str, character: int = 0, kart: int = 0) -> list[dict]:
    """The inputs from power-on to the race, as an input script of
    :mod:`emurl.states.scripts`: a list of ``{"wait": frames}`` (nothing pressed for
    that many frames) and ``{"press": button}`` (the button held one frame, then released)
    steps. Play it with :func:`emurl.states.scripts.run_script`; expand it per frame
    with :func:`emurl.states.scripts.script_frames`.

    Raises:
        UnknownCourseError, ValueError: an unknown course, character or kart.
    """
    course = find_course(course)
    kart_moves = kart_position(character, kart)
    s: list[dict] = [_wait(360), _press("A")]
    s += [_wait(110), _press("DOWN"), _press("A"), _wait(45), _press("A")]
    s += [_wait(45)] + _moves(CHARACTER_GRID.index(character)) + [_press("A"), _wait(30)]
    for _ in range(kart_moves):
        s += [_press("RIGHT"), _wait(MOVE_WAIT)]
    s += [_press("A")]
    s += [_wait(160)] + _moves(course.cup) + [_press("A"), _wait(55)]
    for _ in range(course.slot):
        s += [_press("DOWN"), _wait(MOVE_WAIT)]
    s += [_press("A"), _wait(15), _press("A")]
    return s


RACE_START = {"racer_pointer": {"op": "nonzero"}, "scene_state": 2, "race_frame": {"op": "greater-or-equal", "reference": 1}}
"""The race has started: the player's driver exists, the race scene runs and the race frame
counter has counted (an ``until`` condition of :mod:`emurl.states.scripts`)."""
RACE_START_HINT = ("no race: a menu input missed (a save without every course unlocked, another region's "
                   "menu timing) or an address is wrong")


def race_variables() -> dict:
    """Name → Variable for :data:`RACE_START`'s ``until`` step (``racer_pointer`` is an
    on-demand variable, so not in ``Integration.variables``)."""
    return {name: game.variable(name) for name in RACE_START}


def race_start_step(timeout_seconds: float = 60.0) -> dict:
    """The input-script step that runs released frames until :data:`RACE_START`, failing
    after ``timeout_seconds`` of game time with :data:`RACE_START_HINT`."""
    return {"until": RACE_START, "timeout_seconds": timeout_seconds, "hint": RACE_START_HINT}


def start_script(course: Course | str, character: int = 0, kart: int = 0, timeout_seconds: float = 60.0) -> list[dict]:
    """The whole script from power-on to race frame 1: :func:`menu_script`, then
    :func:`race_start_step` (played by :func:`emurl.states.scripts.run_script` with
    :func:`race_variables`).

    Raises:
        UnknownCourseError, ValueError: an unknown course, character or kart.
    """
    return menu_script(course, character, kart) + [race_start_step(timeout_seconds)]


def race_frame_problem(emulator) -> str | None:
    """None when the race frame counter reads 1 (the state is on race frame 1), else what went wrong."""
    frame = int(game.variable("race_frame").read(emulator))
    if frame == 1:
        return None
    return (f"the race frame counter jumped to {frame} without reading 1; check race_frame "
            f"(race_state_t +0x4) in {game.GAME}/data.json")


def wait_for_race(emulator, timeout_frames: int = 1800) -> int:
    """Step until the race starts (:data:`RACE_START`) on race frame 1; returns the frames run.

    Raises:
        StartStateError: not there within ``timeout_frames`` (the message gives the racer
            pointer, scene state and race frame last seen), or the counter went past 1.
    """
    step = dict(race_start_step(), timeout=timeout_frames)
    del step["timeout_seconds"]
    frames = run_script(emulator, [step], race_variables(), where=f"{game.GAME} race start")
    problem = race_frame_problem(emulator)
    if problem:
        raise StartStateError(problem)
    return frames


def config_problems(emulator, course: Course, character: int, kart: int) -> list[str]:
    """What the race config holds that was not asked for (empty: all as asked)."""
    got = {k: int(game.variable(k).read(emulator)) for k in ("course", "character", "kart")}
    out = []
    if got["course"] != course.internal_id:
        try:
            other = course_by_id(got["course"])
            desc = f"{other.abbr} ({other.name})"
        except UnknownCourseError:
            desc = "no known course"
        out.append(f"course id {got['course']} ({desc}), expected {course.internal_id} ({course.abbr}, {course.name})")
    if got["character"] != character:
        out.append(f"character {got['character']}, expected {character}")
    if got["kart"] != kart:
        out.append(f"kart {got['kart']}, expected {kart} (emurl assumes kart id = 3 * owner character + 0..2)")
    return out


# -- files ----------------------------------------------------------------------------------
def default_save() -> Path | None:
    """The all-unlocked save emurl uses when none is given: ``100percent.sav`` in the
    integration folder, else in ``<data dir>/saves/MarioKartDS-NintendoDs/``; None if neither."""
    for folder in (game.integration().folder, data_dir() / "saves" / game.GAME):
        p = folder / DEFAULT_SAVE_NAME
        if p.is_file():
            return p
    return None


def _resolve_save(save) -> Path:
    if save is None:
        found = default_save()
        if found is None:
            raise StartStateError(
                "a save with every course unlocked is needed as the cartridge's backup memory: pass "
                f"--save PATH (e.g. a {DEFAULT_SAVE_NAME}), or put one at "
                f"{data_dir() / 'saves' / game.GAME / DEFAULT_SAVE_NAME}"
            )
        return found
    path = Path(save)
    if not path.is_file():
        raise StartStateError(f"{path}: no such save file")
    return path


def default_name(course: Course, character: int = 0, kart: int = 0) -> str:
    """``"yf"`` for the default racer (character 0, kart 0), else ``"yf-c3-k10"``."""
    return course.abbr if (character, kart) == (0, 0) else f"{course.abbr}-c{character}-k{kart}"


# -- reaching a race ------------------------------------------------------------------------
def _route(rom, course: Course, character: int, kart: int, save, timeout_seconds: float) -> dict:
    """The script and hooks of :func:`emurl.states.scripts.open_and_run` that reach the race
    (keys ``script``, ``variables``, ``prepare``, ``check``, ``stamp``); checks the course,
    racer, ROM and save first, before any emulator opens."""
    script = start_script(course, character, kart, timeout_seconds)
    info = check_rom(rom)
    save_path = _resolve_save(save)
    save_sha1 = hashlib.sha1(save_path.read_bytes()).hexdigest()

    def prepare(emu) -> None:
        if not callable(getattr(emu, "load_backup", None)):
            raise StartStateError(
                f"the {emu.backend} backend can't load a cartridge save (no load_backup); use backend='desmume'"
            )
        emu.load_backup(str(save_path))

    def check(emu) -> list[str]:
        jumped = race_frame_problem(emu)
        if jumped:
            return [jumped]
        problems = config_problems(emu, course, character, kart)
        code = game_code_in_memory(emu)
        if code != info.game_code:
            problems.append(f"game code in RAM (0x023FFA8C) reads {code!r}, the ROM header says {info.game_code!r}")
        return ["the race reached is not the one asked for: " + "; ".join(problems)] if problems else []

    def stamp(emu) -> dict:
        return {
            "game_code": info.game_code, "region": info.region,
            "course": course.abbr, "course_name": course.name, "course_id": course.internal_id,
            "course_order": course.order, "character": character, "kart": kart,
            "race_frame": int(game.variable("race_frame").read(emu)),
            "save": save_path.name, "save_sha1": save_sha1,
        }

    return {"script": script, "variables": race_variables(), "prepare": prepare, "check": check, "stamp": stamp}


def open_race(
    rom: str,
    course: Course | str,
    character: int = 0,
    kart: int = 0,
    backend: str | None = "desmume",
    save: str | os.PathLike | None = None,
    timeout_seconds: float = 60.0,
    screenshot: Callable[[str], Path] | None = None,
    open_emulator: Callable | None = None,
):
    """Open the ROM, load the save, drive the menus and stop at race frame 1.

    Returns:
        ``(emulator, record)``: the open emulator (the caller closes it) and a dict of
        what was reached (see :func:`make_start_state`'s sidecar, less the state's name,
        script and time).

    Raises:
        RomCheckError: not a Mario Kart DS ROM (checked before any emulator opens).
        UnknownCourseError, ValueError: an unknown course, character or kart.
        StartStateError: no save, a backend without ``load_backup``, no race in time, or
            the race config differs from what was asked (a screenshot is written to
            ``screenshot(backend)`` when given).
        EmulatorError: the backend could not open the ROM.
    """
    route = _route(rom, find_course(course), character, kart, save, timeout_seconds)
    stamp = route.pop("stamp")
    emu, frames = open_and_run(str(rom), "NintendoDs", backend=backend, where=f"{game.GAME} menu script",
                               screenshot=screenshot, open_emulator=open_emulator, **route)
    try:
        return emu, {**base_record(game.GAME, emu, rom, frames), **stamp(emu)}
    except BaseException:
        emu.close()
        raise


def make_start_state(
    rom: str,
    course: Course | str,
    character: int = 0,
    kart: int = 0,
    backend: str = "desmume",
    save: str | os.PathLike | None = None,
    name: str | None = None,
    timeout_seconds: float = 60.0,
    folder: str | os.PathLike | None = None,
    open_emulator: Callable | None = None,
) -> StartState:
    """Make a Time Trial start state at race frame 1 and save it for this integration.

    The one start-state path of :func:`emurl.states.scripts.make_start_state`, with
    :func:`start_script` and this game's hooks (load the save; check the race config and
    game code; stamp the course, racer and save).

    Args:
        rom: the .nds file (game code AMCE, AMCP or AMCJ).
        course: abbreviation or name (``"yf"``), or a :class:`Course`.
        character: character id 0-11 (:data:`CHARACTER_GRID` lists them in menu order).
        kart: kart id 0-35.
        backend: ``"desmume"`` (the one that loads saves) or ``"melonds"``.
        save: a save with every course unlocked, loaded as the cartridge's backup memory
            (default: :func:`default_save`).
        name: the state's name (default :func:`default_name`: ``"yf"``, ``"yf-c3-k10"``).
        timeout_seconds: game time allowed after the menu inputs for the race to start.
        folder: where to write (default: ``Integration.user_state_dir()``).
        open_emulator: stand-in for :func:`emurl.emulators.open_emulator` (tests).

    Returns:
        A :class:`StartState`: ``<folder>/<name>.<backend>.state`` (gzip) and its JSON
        sidecar (game, state name, backend, core version, ROM SHA-1, frames from power-on,
        game code, region, course, character, kart, race frame, save and its SHA-1, the
        script, emurl version, time).

    Raises:
        RomCheckError: the ROM's game code is not Mario Kart DS's (before any emulator opens).
        StartStateError: see :func:`open_race`; on a missed race the screenshot is
            ``<folder>/<name>.<backend>.failed.png``.
    """
    course = find_course(course)
    name = name or default_name(course, character, kart)
    route = _route(rom, course, character, kart, save, timeout_seconds)
    return make_state(game.integration(), name, backend=backend or "desmume", out_dir=folder, rom=str(rom),
                      open_emulator=open_emulator, **route)


__all__ = [
    "CHARACTER_GRID", "RACE_START", "StartState", "StartStateError", "config_problems", "default_name",
    "default_save", "kart_position", "make_start_state", "menu_script", "open_race", "race_start_step",
    "race_variables", "start_script", "wait_for_race",
]
