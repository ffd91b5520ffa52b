"""Start states made from power-on by input scripts, stamped with where they came from.

A savestate only loads on the emulator (backend and core version) and ROM that made it,
so emurl makes start states the way a player reaches them: power on, press through the
menus, stop at a chosen moment (e.g. race frame 1), save. The same script run on another
backend gives that backend's state of the same moment.

An input script is a list of steps (JSON-friendly):

- ``{"wait": N}``: run N frames with nothing pressed;
- ``{"press": ["START"], "frames": 1, "repeat": 1, "gap": 0}``: hold the buttons (a list
  of names, or one name: ``{"press": "A"}``) for ``frames`` frames, release; ``repeat``
  times, with ``gap`` released frames after each (so ``{"press": "A"}`` is A for one
  frame); ``(frames + gap) * repeat`` frames in all;
- ``{"hold": ["A"], "frames": N}``: the same as press, for readability;
- ``{"until": {"race_frame": 1}, "timeout": 600}``: run released frames until every
  named variable equals its value (read through the integration's variables after each
  frame); fails after ``timeout`` frames.

Games build scripts in code too (Mario Kart DS's
:func:`emurl.states.mkds.menu_script`); :func:`script_frames` expands a script
without ``until`` steps into the buttons held on each frame, as :func:`run_script` plays
it (e.g. to write it as a movie).

Files: ``<name>.<backend>.state`` (gzip, as stable-retro's states) and beside it
``<name>.<backend>.json``: backend, core, ROM SHA-1, the script and the frame count.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from emurl.errors import EmurlError, IntegrationError
from emurl.fileio import atomic_write, write_state


class StartStateError(EmurlError, RuntimeError):
    """A start state could not be made: an input script failed (a condition not met in time,
    a malformed step, an unknown button) or a game's own checks did (e.g. Mario Kart DS's:
    no race in time, the wrong race, no save)."""


_KINDS = ("wait", "press", "hold", "until")


def _kind(step, i: int, where: str) -> str:
    """The step's kind (one of :data:`_KINDS`). Raises StartStateError: not exactly one."""
    kinds = [k for k in _KINDS if k in step] if isinstance(step, dict) else []
    if len(kinds) != 1:
        raise StartStateError(f"{where}[{i}]: expected one of wait/press/hold/until, got {step!r}")
    return kinds[0]


def _press(step: dict) -> tuple[list[str], int, int, int]:
    """A press/hold step's ``(buttons, frames held, gap, repeat)``."""
    names = step.get("press", step.get("hold"))
    if isinstance(names, str):
        names = [names]
    return list(names), int(step.get("frames", 1)), int(step.get("gap", 0)), int(step.get("repeat", 1))


def _check_buttons(names, buttons, i: int, where: str) -> None:
    for b in names:
        if b not in buttons:
            raise StartStateError(f"{where}[{i}]: unknown button {b!r} (buttons: {', '.join(buttons)})")


def script_frames(script: list, buttons=None, where: str = "input script") -> list[tuple[str, ...]]:
    """The buttons held on each frame of ``script``, as :func:`run_script` plays it: a wait
    holds nothing for N frames; a press holds its buttons ``frames`` frames then nothing
    ``gap`` frames, ``repeat`` times. ``len(...)`` is the script's frame count.

    Args:
        script: the steps (see the module doc), without ``until`` steps (their length
            depends on the game).
        buttons: if given, the button names allowed (e.g. a movie's).
        where: names the script in errors.

    Raises:
        StartStateError: a malformed step, an ``until`` step, or a button not in ``buttons``.
    """
    frames: list[tuple[str, ...]] = []
    for i, step in enumerate(script):
        kind = _kind(step, i, where)
        if kind == "wait":
            frames.extend([()] * int(step["wait"]))
        elif kind == "until":
            raise StartStateError(f"{where}[{i}]: an until step has no fixed frame count, got {step!r}")
        else:
            names, hold, gap, repeat = _press(step)
            if buttons is not None:
                _check_buttons(names, list(buttons), i, where)
            frames.extend(([tuple(names)] * hold + [()] * gap) * repeat)
    return frames


def run_script(emulator, script: list, variables: dict | None = None, where: str = "input script") -> int:
    """Run ``script`` (see the module doc) on ``emulator``; returns the frames run.

    Args:
        emulator: an :class:`emurl.emulators.Emulator`.
        script: the steps.
        variables: name → :class:`emurl.games.variables.Variable`, for ``until`` steps
            (not needed by a script without them).
        where: names the script in errors.

    Raises:
        StartStateError: a malformed step, a button the emulator does not have (the
            message names it and the emulator's buttons), or an ``until`` that timed out.
    """
    buttons = list(emulator.buttons)
    zero = np.zeros(len(buttons), np.uint8)
    frames = 0

    for i, step in enumerate(script):
        kind = _kind(step, i, where)
        if kind == "wait":
            emulator.set_buttons(zero)
            emulator.step(int(step["wait"]))
            frames += int(step["wait"])
        elif kind in ("press", "hold"):
            names, hold, gap, repeat = _press(step)
            _check_buttons(names, buttons, i, where)
            m = zero.copy()
            for b in names:
                m[buttons.index(b)] = 1
            for _ in range(repeat):
                emulator.set_buttons(m)
                emulator.step(hold)
                emulator.set_buttons(zero)
                emulator.step(gap)
                frames += hold + gap
        else:
            cond = step["until"]
            timeout = int(step.get("timeout", 600))
            if not isinstance(cond, dict) or not cond:
                raise StartStateError(f"{where}[{i}].until: expected {{variable: value}}, got {cond!r}")
            if variables is None or any(k not in variables for k in cond):
                missing = [k for k in cond if not variables or k not in variables]
                raise StartStateError(f"{where}[{i}].until: unknown variable(s) {missing}")
            emulator.set_buttons(zero)
            for _ in range(timeout):
                if all(variables[k].read(emulator) == v for k, v in cond.items()):
                    break
                emulator.step()
                frames += 1
            else:
                now = {k: variables[k].read(emulator) for k in cond}
                raise StartStateError(
                    f"{where}[{i}]: {cond} not reached within {timeout} frames (now {now})"
                )
    emulator.set_buttons(zero)
    return frames


def make_start_state(
    integration,
    name: str,
    script: list,
    backend: str,
    out_dir: str | os.PathLike | None = None,
    screenshot_on_failure: bool = True,
) -> Path:
    """Power on the integration's ROM on ``backend``, run ``script``, save the state.

    Args:
        integration: an :class:`emurl.games.integration.Integration`.
        name: the state's name (the file is ``<name>.<backend>.state``).
        script: input script (see the module doc).
        backend: emulator backend (``"desmume"``, ``"melonds"``, ``"retro"``).
        out_dir: where to write (default: the user's state folder for this game,
            ``Integration.user_state_dir()``).
        screenshot_on_failure: on failure, write ``<name>.<backend>.failed.png`` there.

    Returns:
        The state file's path.

    Raises:
        StartStateError: the script failed (the message says where; a screenshot is
            written for diagnosis).
    """
    from emurl.emulators import open_emulator
    from emurl.games.integration import sha1_of_rom

    rom = integration.require_rom()
    out = Path(out_dir) if out_dir else integration.user_state_dir()
    emu = open_emulator(rom, integration.system, backend)
    try:
        try:
            frames = run_script(emu, script, integration.variables, where=f"{integration.name} {name} script")
        except StartStateError:
            if screenshot_on_failure:
                import imageio.v3 as iio

                out.mkdir(parents=True, exist_ok=True)
                shot = out / f"{name}.{emu.backend}.failed.png"
                iio.imwrite(shot, emu.screen())
                raise StartStateError(f"{integration.name}: making state {name!r} failed; screenshot: {shot}") from None
            raise
        state = emu.save_state()
        stamp = {
            "game": integration.name,
            "state": name,
            "backend": emu.backend,
            "core": getattr(emu, "core", emu.backend),
            "rom_sha1": sha1_of_rom(rom),
            "frames_from_power_on": frames,
            "script": script,
        }
        path = out / f"{name}.{emu.backend}.state"
        write_state(path, state)
        atomic_write(path.with_suffix(".json"), (json.dumps(stamp, indent=1) + "\n").encode())
        return path
    finally:
        emu.close()


def load_scripts(integration) -> dict[str, list]:
    """The integration's start-state scripts: ``start_states.json`` beside its data,
    ``{"<state name>": [steps...]}``.

    Raises:
        IntegrationError: the file is malformed.
    """
    path = integration.folder / "start_states.json"
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise IntegrationError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        raise IntegrationError(f"{path}: expected {{\"state name\": [steps...]}}")
    return raw
