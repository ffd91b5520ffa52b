"""The input script: emurl's one way to drive a game from power-on, as a player would,
pressing through the menus (:mod:`emurl.states.scripts` makes start states with it;
MiniKart's scripts are data, ``start_states.json``; Mario Kart DS's are built in code,
:func:`emurl.states.mkds.start_script`).

An input script is a list of steps (JSON-friendly):

- ``{"wait": N}``: run N frames with nothing pressed;
- ``{"press": ["START"], "frames": 1, "repeat": 1, "gap": 0}``: hold the buttons (a list
  of names, or one name: ``{"press": "A"}``) for ``frames`` frames, release; ``repeat``
  times, with ``gap`` released frames after each (so ``{"press": "A"}`` is A for one
  frame); ``(frames + gap) * repeat`` frames in all;
- ``{"hold": ["A"], "frames": N}``: the same as press, for readability;
- ``{"until": {"race_frame": 1}, "timeout": 600}``: run released frames until every
  named variable meets its condition (read through the game's variables before each
  frame, so zero frames if it already does); fails after ``timeout`` frames, or after
  ``"timeout_seconds"`` of game time (× the emulator's ``frame_rate``) when that is given
  instead. A condition is a value (the variable must equal it) or a scenario comparison
  ``{"op": "greater-or-equal", "reference": 1}`` with the ops of
  :data:`emurl.games.scenario.OPS` (``"nonzero"`` needs no reference). An optional
  ``"hint"`` (text) is added to the timeout's error: what a miss most likely means.

:func:`script_frames` expands a script without ``until`` steps into the buttons held on
each frame, as :func:`run_script` plays it (e.g. to write it as a movie).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from emurl.errors import EmurlError
from emurl.games.scenario import OPS


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
    """A press/hold step's ``(buttons, frames held, gap, repeat)`` (a step :func:`check_script` passed)."""
    names = step.get("press", step.get("hold"))
    if isinstance(names, str):
        names = [names]
    return list(names), int(step.get("frames", 1)), int(step.get("gap", 0)), int(step.get("repeat", 1))


_KEYS = {"wait": set(), "press": {"frames", "gap", "repeat"}, "hold": {"frames", "gap", "repeat"},
         "until": {"timeout", "timeout_seconds", "hint"}}


def check_script(script, where: str = "input script") -> None:
    """Check the shape of every step of ``script`` (see the module doc) before any runs.

    Raises:
        StartStateError: not a list, or a step that is not exactly one of wait/press/hold/until,
            has a key its kind does not take, or a count that is not a whole number >= 0
            (the message names ``where``, the step's index and what was expected).
    """
    def whole(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    if not isinstance(script, list):
        raise StartStateError(f"{where}: expected a list of steps, got {script!r}")
    for i, step in enumerate(script):
        kind = _kind(step, i, where)
        extra = set(step) - {kind} - _KEYS[kind]
        if extra:
            raise StartStateError(f"{where}[{i}]: unknown key(s) {sorted(extra)} for a {kind} step "
                                  f"(it takes {', '.join(sorted(_KEYS[kind])) or 'no other key'})")
        counts = {"wait": ["wait"], "until": ["timeout"]}.get(kind, ["frames", "gap", "repeat"])
        for key in (k for k in counts if k in step):
            if not whole(step[key]):
                raise StartStateError(f"{where}[{i}].{key}: expected a whole number >= 0, got {step[key]!r}")
        names = step.get(kind) if kind in ("press", "hold") else ""
        if not (isinstance(names, str) or isinstance(names, list) and all(isinstance(b, str) for b in names)):
            raise StartStateError(f"{where}[{i}].{kind}: expected a button name or a list of them, got {names!r}")
        if kind == "until":
            seconds = step.get("timeout_seconds", 0)
            if not isinstance(step["until"], dict) or not step["until"]:
                raise StartStateError(f"{where}[{i}].until: expected {{variable: value}}, got {step['until']!r}")
            if not (isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < 1e6):
                raise StartStateError(f"{where}[{i}].timeout_seconds: expected seconds >= 0, got {seconds!r}")
            if not isinstance(step.get("hint", ""), str):
                raise StartStateError(f"{where}[{i}].hint: expected text, got {step['hint']!r}")


def _check_buttons(names, buttons, i: int, where: str) -> None:
    for b in names:
        if b not in buttons:
            raise StartStateError(f"{where}[{i}]: unknown button {b!r} (buttons: {', '.join(buttons)})")


def _tests(cond, variables, i: int, where: str) -> list[tuple[object, Callable[[int], bool]]]:
    """An until step's conditions as ``(variable, test(value) -> bool)`` pairs."""
    if not isinstance(cond, dict) or not cond:
        raise StartStateError(f"{where}[{i}].until: expected {{variable: value}}, got {cond!r}")
    missing = [k for k in cond if not variables or k not in variables]
    if missing:
        raise StartStateError(f"{where}[{i}].until: unknown variable(s) {missing}")
    out = []
    for name, want in cond.items():
        if isinstance(want, dict):
            op = OPS.get(want.get("op"))
            reference = want.get("reference", 0)
            if op is None or set(want) - {"op", "reference"} or not isinstance(reference, (int, float)):
                raise StartStateError(
                    f"{where}[{i}].until.{name}: expected a value or {{\"op\": one of {sorted(OPS)}, "
                    f"\"reference\": number}}, got {want!r}"
                )
            out.append((variables[name], lambda v, op=op, r=reference: bool(op(v, r))))
        else:
            out.append((variables[name], lambda v, w=want: v == w))
    return out


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
    check_script(script, where)
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


def _run_until(emulator, step: dict, variables, i: int, where: str) -> int:
    """Play an until step; returns the frames run. Raises StartStateError: timed out."""
    tests = _tests(step["until"], variables, i, where)
    if "timeout_seconds" in step:
        timeout = int(float(step["timeout_seconds"]) * float(emulator.frame_rate))
    else:
        timeout = int(step.get("timeout", 600))
    for n in range(timeout + 1):
        if all(test(var.read(emulator)) for var, test in tests):
            return n
        if n < timeout:
            emulator.step()
    now = {var.name: var.read(emulator) for var, _ in tests}
    hint = f": {step['hint']}" if step.get("hint") else ""
    raise StartStateError(f"{where}[{i}]: {step['until']} not reached within {timeout} frames (now {now}){hint}")


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
            message names it and the emulator's buttons), or an ``until`` that timed out
            (the message gives the values last read).
    """
    check_script(script, where)
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
            emulator.set_buttons(zero)
            frames += _run_until(emulator, step, variables, i, where)
    emulator.set_buttons(zero)
    return frames


__all__ = ["StartStateError", "check_script", "run_script", "script_frames"]
