"""Keys of ``emurl play``: the keyboard → console buttons per system and player, the hotkeys,
their text, and scripted key events for tests.

Player 1 (port 0) has the arrows and the left-hand letters (:data:`KEYMAPS`). Player 2
(port 1, ``emurl play --players 2``) has the same layout moved to the middle of the keyboard
by :data:`PLAYER2_KEYS`: the D-pad on T F G H (WASD's shape, four keys to the right), the
buttons on J K L / U I O / 7 8 9 0 where player 1's are on Z X C / A S D / Q W E R, SELECT
on 5 and START on 6. On the NES: player 1 arrows, Z = B, X = A, Return = START, Backspace =
SELECT; player 2 T F G H, J = B, K = A, 6 = START, 5 = SELECT. No key is on both players or
on a hotkey."""

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
_RESERVED = {"p", "n", ".", "period", "f1", "f5", "f7", "escape"}
_SPARE_KEYS = ("z", "x", "c", "a", "s", "d", "q", "w", "e", "r", "v", "b", "f", "g")

PLAYER2_KEYS: dict[str, str] = {
    "up": "t", "left": "f", "down": "g", "right": "h",
    "z": "j", "x": "k", "c": "l", "a": "u", "s": "i", "d": "o", "q": "7", "w": "8", "e": "9", "r": "0",
    "v": "m", "b": "comma", "f": "semicolon", "g": "quote",
    "return": "6", "backspace": "5", "tab": "5",
}
"""Player 1's key → player 2's (``emurl play --players 2``): the same layout moved to the
middle of the keyboard, so that two people share one. A key of player 1 with no entry here
(the Atari's second fire key, Space) has no twin; a twin player 1 already uses is dropped."""
_SPARE_KEYS_2 = ("m", "comma", "semicolon", "quote", "y", "b", "v", "1", "2", "3", "4")


def keymap(system: str, buttons: Sequence[str | None], player: int = 0) -> dict[str, tuple[str, ...]]:
    """Button → key names for ``system``'s pad ``buttons`` (an emulator's ``buttons``) on
    controller port ``player`` (0: player 1, 1: player 2).

    Player 1: arrows are the D-pad; the rest comes from :data:`KEYMAPS`, or for a system not
    listed there: START/RUN/PAUSE on Return, SELECT/MODE on Backspace, other buttons on
    z x c a s d q w ... in pad order. Player 2: player 1's keys through :data:`PLAYER2_KEYS`
    (a button left without a key gets a spare one). Buttons the pad lacks are left out.

    Raises:
        EmurlError: ``player`` is not 0 or 1 (there are two key maps).
    """
    if player == 1:
        return _player2(keymap(system, buttons))
    if player != 0:
        raise EmurlError(f"player {player + 1}: emurl play has key maps for players 1 and 2 only")
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


def _player2(first: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Player 2's map from player 1's ``first`` (:data:`PLAYER2_KEYS`; spares where a twin is missing)."""
    taken = {k for keys in first.values() for k in keys} | _RESERVED
    out: dict[str, tuple[str, ...]] = {}
    for b, keys in first.items():
        twins = tuple(PLAYER2_KEYS[k] for k in keys if PLAYER2_KEYS.get(k) not in taken | {None})
        out[b] = twins
        taken |= set(twins)
    spare = [k for k in _SPARE_KEYS_2 if k not in taken]
    for b, keys in out.items():
        if not keys and spare:
            out[b] = (spare.pop(0),)
    return {b: keys for b, keys in out.items() if keys}


def _key_text(name: str) -> str:
    return name.upper() if len(name) == 1 else name


def format_keymap(system: str, buttons: Sequence[str | None], touch: bool = False, players: int = 1) -> str:
    """The key map(s) and hotkeys as text (what ``emurl play --keys`` prints and F1 shows);
    with ``players=2`` player 1's map, then player 2's."""
    lines: list[str] = []
    for p in range(players):
        lines.append(f"{system} buttons:" if players == 1 else f"{system} player {p + 1} buttons:")
        for b, keys in keymap(system, buttons, p).items():
            lines.append(f"  {' / '.join(_key_text(k) for k in keys):<14} {b}")
    if touch:
        lines.append(f"  {'mouse':<14} touch the bottom screen")
    lines.append("hotkeys:")
    lines += [f"  {_key_text(k):<14} {what}" for k, what in HOTKEYS]
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


def key_buttons(system: str, buttons: Sequence[str | None], players: int = 1) -> dict[int, np.ndarray]:
    """pygame key code → the buttons it holds, uint8 (players, len(buttons)) of 0/1: row ``p``
    the buttons of port ``p`` in the pad's bit order (:func:`keymap`'s keys; a key on two
    buttons holds both)."""
    buttons = list(buttons)
    out: dict[int, np.ndarray] = {}
    for p in range(players):
        for b, names in keymap(system, buttons, p).items():
            for n in names:
                out.setdefault(key_code(n), np.zeros((players, len(buttons)), np.uint8))[p, buttons.index(b)] = 1
    return out


def key_press(key: str | int, frame: int, frames: int = 1) -> list[tuple[int, object]]:
    """Scripted events for :func:`emurl.play.play`: ``key`` (a pygame key name or code) goes
    down before ``frame`` and up before ``frame + frames``. Returns ``[(frame, KEYDOWN),
    (frame + frames, KEYUP)]``."""
    code = key_code(key) if isinstance(key, str) else int(key)
    down = pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0)
    up = pygame.event.Event(pygame.KEYUP, key=code, mod=0, unicode="", scancode=0)
    return [(frame, down), (frame + frames, up)]


__all__ = ["DPAD", "HOTKEYS", "KEYMAPS", "PLAYER2_KEYS", "format_keymap", "key_buttons", "key_code", "key_press",
           "keymap"]
