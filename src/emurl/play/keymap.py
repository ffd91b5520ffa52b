"""Keys of ``emurl play``: the keyboard → console buttons per system, the hotkeys, their text,
and scripted key events for tests."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pygame

from emurl.errors import EmurlError

KEYMAPS: dict[str, dict[str, tuple[str, ...]]] = {
    "Atari2600": {"BUTTON": ("x", "space"), "SELECT": ("tab",), "RESET": ("return",)},
    "Nes": {"A": ("x",), "B": ("z",), "START": ("return",), "SELECT": ("backspace",)},
    "GameBoy": {"A": ("x",), "B": ("z",), "START": ("return",), "SELECT": ("backspace",)},
    "GbColor": {"A": ("x",), "B": ("z",), "START": ("return",), "SELECT": ("backspace",)},
    "Sms": {"B": ("z",), "A": ("x",), "PAUSE": ("return",)},
    "GameGear": {"B": ("z",), "A": ("x",), "START": ("return",)},
    "Genesis": {"A": ("z",), "B": ("x",), "C": ("c",), "X": ("a",), "Y": ("s",), "Z": ("d",),
                "START": ("return",), "MODE": ("backspace",)},
    "Snes": {"B": ("z",), "A": ("x",), "Y": ("a",), "X": ("s",), "L": ("q",), "R": ("w",),
             "START": ("return",), "SELECT": ("backspace",)},
    "NintendoDs": {"B": ("z",), "A": ("x",), "Y": ("a",), "X": ("s",), "L": ("q",), "R": ("w",),
                   "START": ("return",), "SELECT": ("backspace",)},
}
"""Per system: button → key names (:func:`key_code` turns them into pygame key codes). The arrow keys
are the D-pad on every system. Systems not listed get :func:`keymap`'s fallback."""

DPAD = {"UP": ("up",), "DOWN": ("down",), "LEFT": ("left",), "RIGHT": ("right",)}
HOTKEYS = (
    ("p", "pause / resume"),
    ("n or .", "frame advance (while paused)"),
    ("f5", "save state"),
    ("f7", "load state"),
    ("f1", "show / hide keys"),
    ("escape", "quit"),
)
_RESERVED = {"p", "n", ".", "f1", "f5", "f7", "escape"}
_SPARE_KEYS = ("z", "x", "c", "a", "s", "d", "q", "w", "e", "r", "v", "b", "f", "g")


def keymap(system: str, buttons: Sequence[str | None]) -> dict[str, tuple[str, ...]]:
    """Button → key names for ``system``'s pad ``buttons`` (an emulator's ``buttons``).

    Arrows are the D-pad; the rest comes from :data:`KEYMAPS`, or for a system not listed
    there: START/RUN/PAUSE on Return, SELECT/MODE on Backspace, other buttons on
    z x c a s d q w ... in pad order. Buttons the pad lacks are left out.
    """
    names = [b for b in buttons if b]
    table = dict(DPAD)
    table.update(KEYMAPS.get(system, {}))
    out: dict[str, tuple[str, ...]] = {}
    used = {k for keys in table.values() for k in keys}
    spare = [k for k in _SPARE_KEYS if k not in used]
    for b in names:
        if b in table:
            out[b] = table[b]
        elif b in ("START", "RUN", "PAUSE") and "return" not in used:
            out[b] = ("return",)
            used.add("return")
        elif b in ("SELECT", "MODE") and "backspace" not in used:
            out[b] = ("backspace",)
            used.add("backspace")
        elif spare:
            out[b] = (spare.pop(0),)
    return out


def format_keymap(system: str, buttons: Sequence[str | None], touch: bool = False) -> str:
    """The key map and hotkeys as text (what ``emurl play --keys`` prints and F1 shows)."""
    lines = [f"{system} buttons:"]
    for b, keys in keymap(system, buttons).items():
        lines.append(f"  {' / '.join(k.upper() if len(k) == 1 else k for k in keys):<14} {b}")
    if touch:
        lines.append(f"  {'mouse':<14} touch the bottom screen")
    lines.append("hotkeys:")
    lines += [f"  {k.upper() if len(k) == 1 else k:<14} {what}" for k, what in HOTKEYS]
    return "\n".join(lines)


def key_code(name: str) -> int:
    """The pygame key code of a key name of :data:`KEYMAPS` (``"x"``, ``"return"``, ``"f5"``).

    Raises:
        EmurlError: pygame has no such key.
    """
    for attr in (f"K_{name}", f"K_{name.upper()}", f"K_{name.replace(' ', '_').upper()}"):
        if hasattr(pygame, attr):
            return int(getattr(pygame, attr))
    raise EmurlError(f"unknown key name {name!r} (pygame has no K_{name})")


def key_buttons(system: str, buttons: Sequence[str | None]) -> dict[int, np.ndarray]:
    """pygame key code → the buttons it holds, uint8 (len(buttons),) of 0/1 in the pad's bit
    order (:func:`keymap`'s keys; a key on two buttons holds both)."""
    buttons = list(buttons)
    out: dict[int, np.ndarray] = {}
    for b, names in keymap(system, buttons).items():
        for n in names:
            out.setdefault(key_code(n), np.zeros(len(buttons), np.uint8))[buttons.index(b)] = 1
    return out


def key_press(key: str | int, frame: int, frames: int = 1) -> list[tuple[int, object]]:
    """Scripted events for :func:`emurl.play.play`: ``key`` (a pygame key name or code) goes
    down before ``frame`` and up before ``frame + frames``. Returns ``[(frame, KEYDOWN),
    (frame + frames, KEYUP)]``."""
    code = key_code(key) if isinstance(key, str) else int(key)
    down = pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0)
    up = pygame.event.Event(pygame.KEYUP, key=code, mod=0, unicode="", scancode=0)
    return [(frame, down), (frame + frames, up)]


__all__ = ["DPAD", "HOTKEYS", "KEYMAPS", "format_keymap", "key_buttons", "key_code", "key_press", "keymap"]
