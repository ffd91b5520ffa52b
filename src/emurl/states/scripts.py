"""Start states made from power-on by input scripts, stamped with where they came from.

A savestate only loads on the emulator (backend and core version) and ROM that made it,
so emurl makes start states the way a player reaches them: power on, press through the
menus, stop at a chosen moment (e.g. race frame 1), save. The same script run on another
backend gives that backend's state of the same moment. Every game goes through this one
mechanism: MiniKart's scripts are data (``start_states.json``), Mario Kart DS's are built
in code (:func:`emurl.states.mkds.start_script`).

An input script (its steps, checked and played) is :mod:`emurl.states.input_script`;
its names are importable from here too.

Files (:func:`make_start_state`): ``<name>.<backend>.state`` (gzip, as stable-retro's
states; :func:`emurl.fileio.state_file_name`) and beside it ``<name>.<backend>.json``:
game, state, backend, core, ROM SHA-1, frames from power-on, the script, emurl's version
and the time, plus what a game adds (Mario Kart DS: course, character, kart, save, ...).
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from emurl.emulators import open_emulator as _open_emulator
from emurl.errors import IntegrationError
from emurl.fileio import atomic_write, state_file_name, write_state
from emurl.games.integration import sha1_of_rom
from emurl.games.jsonfile import read_json_object
from emurl.states.input_script import StartStateError, check_script, run_script, script_frames
from emurl.version import __version__


@dataclass(frozen=True)
class StartState:
    """A made start state.

    Attributes:
        name: the state's name (pass it as ``state=`` to ``emurl.make``).
        path: the ``.state`` file (gzip).
        sidecar: the JSON file beside it.
        record: what the sidecar holds.
    """

    name: str
    path: Path
    sidecar: Path
    record: dict


def write_screenshot(emulator, path: Path) -> Path | None:
    """Write the emulator's screen as a PNG (None if that fails: diagnosis must not hide the error)."""
    try:
        import imageio.v3 as iio  # lazy: ~0.04 s to import, needed only when a script fails

        path.parent.mkdir(parents=True, exist_ok=True)
        iio.imwrite(path, emulator.screen())
        return path
    except Exception:
        return None


def open_and_run(
    rom: str,
    system: str,
    script: list,
    backend: str | None = None,
    *,
    variables: dict | None = None,
    where: str = "input script",
    prepare: Callable[[object], None] | None = None,
    check: Callable[[object], list[str]] | None = None,
    screenshot: Callable[[str], Path] | None = None,
    open_emulator: Callable | None = None,
):
    """Open ``rom`` from power-on, run ``script`` and check where it got to.

    Args:
        rom: the ROM file.
        system: stable-retro's system name (``"NintendoDs"``).
        script: input script (see the module doc).
        backend: emulator backend (None: the system's default).
        variables: name → Variable for the script's ``until`` steps.
        where: names the script in errors (`` (<backend> emulator)`` is added).
        prepare: hook called with the open emulator before the script (e.g. Mario Kart
            DS's: load the cartridge save); may raise StartStateError.
        check: hook called with the emulator after the script; returns problems (empty:
            all as asked), which fail as one StartStateError.
        screenshot: ``screenshot(backend)`` → where a PNG of the screen goes when the
            script or the check fails (None: no screenshot). The error then names it.
        open_emulator: stand-in for :func:`emurl.emulators.open_emulator` (tests).

    Returns:
        ``(emulator, frames)``: the open emulator (the caller closes it) and the frames
        run from power-on.

    Raises:
        StartStateError: a hook or the script failed. EmulatorError: the backend could
            not open the ROM.
    """
    emu = (open_emulator or _open_emulator)(str(rom), system, backend)
    try:
        if prepare is not None:
            prepare(emu)
        try:
            frames = run_script(emu, script, variables, where=f"{where} ({emu.backend} emulator)")
            problems = check(emu) if check is not None else []
            if problems:
                raise StartStateError("; ".join(problems))
        except StartStateError as exc:
            shot = write_screenshot(emu, screenshot(emu.backend)) if screenshot is not None else None
            if shot is not None:
                raise StartStateError(f"{exc} (screenshot: {shot})") from None
            raise
        return emu, frames
    except BaseException:
        emu.close()
        raise


def base_record(game: str, emulator, rom: str, frames: int) -> dict:
    """What every start state's sidecar records of where it came from: ``game``,
    ``backend``, ``core`` (the core and its version; the backend's name when it gives
    none), ``rom_sha1`` (:func:`emurl.games.integration.sha1_of_rom`) and
    ``frames_from_power_on``."""
    return {
        "game": game,
        "backend": emulator.backend,
        "core": getattr(emulator, "core", None) or emulator.backend,
        "rom_sha1": sha1_of_rom(str(rom)),
        "frames_from_power_on": frames,
    }


def make_start_state(
    integration,
    name: str,
    script: list,
    backend: str | None,
    out_dir: str | os.PathLike | None = None,
    screenshot_on_failure: bool = True,
    *,
    rom: str | None = None,
    variables: dict | None = None,
    prepare: Callable[[object], None] | None = None,
    check: Callable[[object], list[str]] | None = None,
    stamp: Callable[[object], dict] | None = None,
    open_emulator: Callable | None = None,
) -> StartState:
    """Power on the integration's ROM on ``backend``, run ``script``, save the state.

    Args:
        integration: an :class:`emurl.games.integration.Integration`.
        name: the state's name (the file is ``<name>.<backend>.state``).
        script: input script (see the module doc).
        backend: emulator backend (``"desmume"``, ``"melonds"``, ``"retro"``; None: the
            system's default).
        out_dir: where to write (default: the user's state folder for this game,
            ``Integration.user_state_dir()``).
        screenshot_on_failure: on failure, write ``<name>.<backend>.failed.png`` there.
        rom: the ROM file (default: ``integration.require_rom()``).
        variables: name → Variable for ``until`` steps (default: the integration's).
        prepare, check: hooks of :func:`open_and_run` (Mario Kart DS: load the save;
            the race config and game code).
        stamp: ``stamp(emulator)`` → more fields for the sidecar, read after the check.
        open_emulator: stand-in for :func:`emurl.emulators.open_emulator` (tests).

    Returns:
        A :class:`StartState`: the ``.state`` file (gzip) and its JSON sidecar.

    Raises:
        StartStateError: the script or a hook failed (the message says where; a
            screenshot is written for diagnosis). RomNotFoundError: no ``rom`` and none
            imported.
    """
    rom = str(rom) if rom is not None else integration.require_rom()
    out = Path(out_dir) if out_dir else integration.user_state_dir()
    emu, frames = open_and_run(
        rom, integration.system, script, backend,
        variables=integration.variables if variables is None else variables,
        where=f"{integration.name} {name} script", prepare=prepare, check=check,
        screenshot=(lambda used: out / f"{name}.{used}.failed.png") if screenshot_on_failure else None,
        open_emulator=open_emulator,
    )
    try:
        record = {"state": name, **base_record(integration.name, emu, rom, frames)}
        record.update(stamp(emu) if stamp is not None else {})
        state = emu.save_state()
    finally:
        emu.close()
    record.update(script=script, emurl_version=__version__,
                  created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    path = write_state(out / state_file_name(name, record["backend"]), state)
    sidecar = atomic_write(path.with_suffix(".json"), (json.dumps(record, indent=1) + "\n").encode())
    return StartState(name, path, sidecar, record)


def load_scripts(integration) -> dict[str, list]:
    """The integration's start-state scripts: ``start_states.json`` beside its data,
    ``{"<state name>": [steps...]}``.

    Raises:
        IntegrationError: the file is malformed.
    """
    path = integration.folder / "start_states.json"
    if not path.is_file():
        return {}
    raw = read_json_object(path)
    if not all(isinstance(v, list) for v in raw.values()):
        raise IntegrationError(f"{path}: expected {{\"state name\": [steps...]}}")
    for name, script in raw.items():
        try:
            check_script(script, f"{path}: {name}")
        except StartStateError as exc:
            raise IntegrationError(str(exc)) from None
    return raw


__all__ = [
    "StartState", "StartStateError", "base_record", "check_script", "load_scripts", "make_start_state", "open_and_run", "run_script",
    "script_frames", "write_screenshot",
]
