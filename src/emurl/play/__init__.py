"""``emurl play``: a person plays a game in a pygame-ce window, optionally recording a movie.

The window shows the emulator's screen scaled by an integer factor (Nintendo DS on
DeSmuME: both screens stacked, the touch screen below; on melonDS: the top screen).
The keyboard maps to the console's buttons by :data:`KEYMAPS` (``emurl play GAME --keys``
prints it, F1 shows it over the game). Hotkeys:

==========  ================================================================
P           pause / resume
N or .      while paused: run one frame (frame advance)
F5          save a state to the integration's user state folder (``--slot``)
F7          load that state (while recording: only one saved in this recording,
            and the movie is cut back to the frame it was saved on: a rerecord)
F1          show / hide the key map
Esc         quit (the movie is written)
==========  ================================================================

States are written where :meth:`~emurl.games.Integration.states` finds them:
``Integration.user_state_dir()/<slot>.state``, or ``<slot>.<backend>.state`` on the DS
backends (whose savestates only load on the backend that made them), gzip-compressed
as stable-retro's are. ``emurl play GAME --state <slot>`` (and ``emurl train --state``)
start from it.

Recording (``--record FILE``): every emulated frame's buttons go into a
:class:`~emurl.movies.Movie` with the movie semantics of :mod:`emurl.movies.movie`:
``buttons[i]`` is held during the ``i``-th frame run after the start state is loaded.
The start state is stored by name when it is one of the integration's own (shipped,
read-only) states, else as bytes (a user's state may be overwritten later); ``.bk2``
always embeds the bytes, ``.dsm`` records from power-on on DeSmuME only. The format
follows the extension (``.emv``, ``.bk2``, ``.dsm``).

Tests and scripts drive :func:`play` without a keyboard: ``SDL_VIDEODRIVER=dummy``,
``events=[(frame, pygame_event), ...]`` posted before that frame runs, or
``held=lambda frame: {pygame.K_x}`` (keys held on a frame), and ``max_frames``.
"""

from __future__ import annotations

import gzip
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from emurl.errors import EmurlError
from emurl.fileio import write_state

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

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
STATE_SUFFIX_BACKENDS = ("desmume", "melonds")
"""Backends whose states are saved as ``<name>.<backend>.state``."""


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


def state_path(integration, slot: str, backend: str) -> Path:
    """Where a state saved by ``emurl play`` goes: ``user_state_dir()/<slot>.state``, or
    ``<slot>.<backend>.state`` for the DS backends (a gzip file of the savestate's bytes).

    Raises:
        EmurlError: ``slot`` is not a plain state name (empty, starts with ``_``, which
            state listings skip, holds a ``/`` or ends in ``.state``).
    """
    if not slot or slot.startswith("_") or "/" in slot or os.sep in slot or slot.endswith(".state"):
        raise EmurlError(f"--slot {slot!r}: expected a plain state name (not starting with '_', no '/', no .state)")
    tag = f".{backend}" if backend in STATE_SUFFIX_BACKENDS else ""
    return Path(integration.user_state_dir()) / f"{slot}{tag}.state"


@dataclass
class PlayResult:
    """What a :func:`play` session did.

    Attributes:
        frames: emulated frames run (after rerecords: the movie's length when recording).
        movie: the recorded :class:`~emurl.movies.Movie`, or None without ``record``.
        movie_path: where it was written, or None.
        saved_states: the state files written with F5.
        rerecords: times F7 cut the recording back.
        window: the window's (width, height) in pixels.
    """

    frames: int
    movie: object | None = None
    movie_path: Path | None = None
    saved_states: list[Path] = field(default_factory=list)
    rerecords: int = 0
    window: tuple[int, int] = (0, 0)


def key_code(name: str) -> int:
    """The pygame key code of a key name of :data:`KEYMAPS` (``"x"``, ``"return"``, ``"f5"``).

    Raises:
        EmurlError: pygame has no such key.
    """
    import pygame

    for attr in (f"K_{name}", f"K_{name.upper()}", f"K_{name.replace(' ', '_').upper()}"):
        if hasattr(pygame, attr):
            return int(getattr(pygame, attr))
    raise EmurlError(f"unknown key name {name!r} (pygame has no K_{name})")


def key_press(key: str | int, frame: int, frames: int = 1) -> list[tuple[int, object]]:
    """Scripted events for :func:`play`: ``key`` (a pygame key name or code) goes down
    before ``frame`` and up before ``frame + frames``. Returns ``[(frame, KEYDOWN),
    (frame + frames, KEYUP)]``."""
    import pygame

    code = key_code(key) if isinstance(key, str) else int(key)
    down = pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0)
    up = pygame.event.Event(pygame.KEYUP, key=code, mod=0, unicode="", scancode=0)
    return [(frame, down), (frame + frames, up)]


def _start(integ, state: str | None, backend: str) -> tuple[bytes | None, str | bytes | None]:
    """(bytes to load, the movie's start_state) for ``state`` ('default', a name, or None)."""
    name = integ.default_state if state == "default" else state
    if name is None:
        return None, None
    data = integ.load_state_bytes(name, backend)
    path = integ.states(backend).get(name)
    shipped = path is not None and Path(path).parent == Path(integ.folder)
    return data, (name if shipped else data)


def play(
    game: str,
    state: str | None = "default",
    record: str | os.PathLike | None = None,
    backend: str | None = None,
    scale: int = 2,
    fast: bool = False,
    *,
    game_path=None,
    slot: str = "quicksave",
    events: Iterable[tuple[int, object]] | None = None,
    held: Callable[[int], Iterable[int]] | None = None,
    max_frames: int | None = None,
    on_frame: Callable[[int, np.ndarray], None] | None = None,
    verbose: bool = True,
) -> PlayResult:
    """Play ``game`` in a window until Esc / the window is closed / ``max_frames``.

    Args:
        game: integration name (``"Airstriker-Genesis"``).
        state: start state name, ``"default"`` (the integration's) or None (power-on).
        record: write an input movie here when the session ends (``.emv``, ``.bk2``,
            ``.dsm`` by extension), atomically; also after an error or Ctrl-C.
        backend: emulator backend (default: the system's).
        scale: integer window scale (the window is ``scale`` × the screen in pixels).
        fast: don't throttle to the game's frame rate (``Emulator.frame_rate``, frames/s).
        game_path: extra integration folders.
        slot: state name that F5 saves and F7 loads (see :func:`state_path`).
        events: scripted ``(frame, pygame.event.Event)`` pairs, each posted to pygame's
            queue just before emulated frame ``frame`` runs (see :func:`key_press`).
        held: scripted key state: ``held(frame)`` → pygame key codes held on that frame,
            added to the keys held by (real or scripted) key events.
        max_frames: stop after this many emulated frames (counted as the movie's frames).
        on_frame: called as ``on_frame(frame, screen)`` after each emulated frame, with
            the frame's index in the movie and the screen, uint8 (H, W, 3) RGB.
        verbose: print saves, loads and refusals to stdout.

    With scripted input, the session also ends when the game is paused and no scripted
    event is left to resume it.

    Returns:
        A :class:`PlayResult`.

    Raises:
        EmurlError: a bad ``record`` extension, ``.dsm`` not from power-on on DeSmuME, a
            bad ``slot`` or ``scale``; UnknownGameError, RomNotFoundError,
            UnknownStateError, EmulatorError as the game's env would.
    """
    import pygame

    from emurl.emulators import open_emulator
    from emurl.games import load_integration
    from emurl.games.integration import sha1_of_rom
    from emurl.movies import EXTENSIONS, Movie, save_movie

    if int(scale) < 1:
        raise EmurlError(f"--scale {scale}: expected an integer >= 1")
    scale = int(scale)
    record = Path(record) if record is not None else None
    if record is not None and record.suffix.lower() not in EXTENSIONS:
        raise EmurlError(f"--record {record}: unknown movie format {record.suffix or '(none)'!r} "
                         f"(expected one of {', '.join(EXTENSIONS)})")
    if record is not None and not record.parent.is_dir() and str(record.parent):
        raise EmurlError(f"--record {record}: no such folder {record.parent}")
    integ = load_integration(game, game_path)
    rom = integ.require_rom()
    emu = open_emulator(rom, integ.system, backend)
    say = print if verbose else (lambda *a, **k: None)
    try:
        backend = emu.backend
        slot_file = state_path(integ, slot, backend)
        ext = record.suffix.lower() if record is not None else None
        initial, movie_start = _start(integ, state, backend)
        if ext == ".dsm" and (backend != "desmume" or initial is not None):
            raise EmurlError(f"--record {record}: a .dsm starts from power-on on DeSmuME: use --backend desmume "
                             "--state none, or record a .emv")
        if ext == ".bk2" and initial is None:
            initial = emu.save_state()  # power-on, as the bytes stable-retro's .bk2 needs
        if ext == ".bk2":
            movie_start = initial
        if initial is not None:
            emu.load_state(initial)

        buttons = list(emu.buttons)
        nb = len(buttons)
        kmap = keymap(integ.system, buttons)
        key_to_bits: dict[int, np.ndarray] = {}
        for b, names in kmap.items():
            for n in names:
                code = key_code(n)
                bits = key_to_bits.setdefault(code, np.zeros(nb, np.uint8))
                bits[buttons.index(b)] = 1
        touch_ok = bool(getattr(emu, "supports_touch", False))
        stacked = integ.system == "NintendoDs" and bool(getattr(emu, "stacked", False))
        if getattr(emu, "show", None) is not None and not stacked:
            emu.show("top")

        pygame.display.init()
        pygame.font.init()
        first = emu.screen()
        H, W = first.shape[:2]
        window = pygame.display.set_mode((W * scale, H * scale))
        font = pygame.font.Font(None, max(14, 9 * scale))
        help_lines = format_keymap(integ.system, buttons, touch_ok and stacked).splitlines()

        script: dict[int, list] = {}
        for f, ev in events or ():
            script.setdefault(int(f), []).append(ev)
        scripted = events is not None or held is not None

        rows: list[np.ndarray] = []
        touches: list[tuple[int, int, int]] = []
        saved_frames: dict[str, tuple[bytes, int]] = {}  # slot file → (state, movie frame) made in this recording
        result = PlayResult(frames=0, window=window.get_size())
        keys_down: set[int] = set()
        touch = (0, 0, 0)
        paused = False
        advance = 0
        show_help = False
        message, message_until = "", 0.0
        period = 1.0 / float(emu.frame_rate or 60.0)
        next_t = time.perf_counter()
        frame = 0
        screen = first
        running = True

        def notice(text: str) -> None:
            nonlocal message, message_until
            message, message_until = text, time.perf_counter() + 2.0
            say(text)

        def draw() -> None:
            surf = pygame.image.frombuffer(np.ascontiguousarray(screen).tobytes(), (W, H), "RGB")
            window.blit(pygame.transform.scale(surf, (W * scale, H * scale)), (0, 0))
            if show_help:
                shade = pygame.Surface((W * scale, H * scale), pygame.SRCALPHA)
                shade.fill((0, 0, 0, 190))
                window.blit(shade, (0, 0))
                y = 4
                for line in help_lines:
                    window.blit(font.render(line, True, (255, 255, 255)), (6, y))
                    y += font.get_linesize()
            status = [f"frame {frame}"]
            if paused:
                status.append("paused")
            if record is not None:
                status.append("REC")
            if message and time.perf_counter() < message_until:
                status.append(message)
            pygame.display.set_caption(f"emurl play {integ.name}: " + " | ".join(status))
            pygame.display.flip()

        def touch_at(pos) -> tuple[int, int, int] | None:
            x, y = pos[0] // scale, pos[1] // scale - H // 2
            if 0 <= x < W and 0 <= y < H // 2:
                return (int(x), int(y), 1)
            return None

        try:
            while running:
                if max_frames is not None and frame >= max_frames:
                    break
                for ev in script.pop(frame, ()):
                    pygame.event.post(ev)
                for ev in pygame.event.get():
                    if ev.type == pygame.QUIT:
                        running = False
                    elif ev.type == pygame.KEYDOWN:
                        k = ev.key
                        if k == pygame.K_ESCAPE:
                            running = False
                        elif k == pygame.K_p:
                            paused = not paused
                            advance = 0
                        elif k in (pygame.K_n, pygame.K_PERIOD):
                            if paused:
                                advance += 1
                        elif k == pygame.K_F1:
                            show_help = not show_help
                        elif k == pygame.K_F5:
                            data = emu.save_state()
                            write_state(slot_file, data)
                            result.saved_states.append(slot_file)
                            saved_frames[str(slot_file)] = (data, frame)
                            notice(f"state saved: {slot_file} (frame {frame})")
                        elif k == pygame.K_F7:
                            if record is not None:
                                made = saved_frames.get(str(slot_file))
                                if made is None:
                                    notice(f"not loaded: {slot_file.name} was not saved in this recording, so "
                                           "the movie could not follow it (F5 first)")
                                    continue
                                data, at = made
                                emu.load_state(data)
                                del rows[at:], touches[at:]
                                frame = at
                                result.rerecords += 1
                                notice(f"state loaded: movie cut back to frame {at} (rerecord {result.rerecords})")
                            elif slot_file.is_file():
                                raw = slot_file.read_bytes()
                                emu.load_state(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
                                notice(f"state loaded: {slot_file}")
                            else:
                                notice(f"no state to load: {slot_file} (F5 saves one)")
                            screen = emu.screen()
                        else:
                            keys_down.add(k)
                    elif ev.type == pygame.KEYUP:
                        keys_down.discard(ev.key)
                    elif ev.type in (pygame.WINDOWFOCUSLOST,):
                        keys_down.clear()
                    elif ev.type == pygame.MOUSEBUTTONDOWN and ev.button == 1 and stacked:
                        t = touch_at(ev.pos)
                        if t is not None:
                            if touch_ok:
                                touch = t
                            else:
                                notice(f"the {backend} backend can't touch the screen (use --backend desmume)")
                    elif ev.type == pygame.MOUSEMOTION and touch[2]:
                        t = touch_at(ev.pos)
                        if t is not None:
                            touch = t
                    elif ev.type == pygame.MOUSEBUTTONUP and ev.button == 1:
                        touch = (touch[0], touch[1], 0)
                if not running:
                    break
                if paused and advance == 0:
                    if scripted:
                        break  # this frame's scripted events are spent: nothing can resume the game
                    draw()
                    if not scripted:
                        time.sleep(1 / 60)
                    next_t = time.perf_counter()
                    continue
                if paused:
                    advance -= 1
                pressed = np.zeros(nb, np.uint8)
                codes = set(keys_down)
                if held is not None:
                    codes |= set(int(c) for c in held(frame))
                for c in codes:
                    bits = key_to_bits.get(c)
                    if bits is not None:
                        pressed |= bits
                emu.set_buttons(pressed, 0)
                if touch_ok:
                    emu.set_touch(touch[0], touch[1], bool(touch[2]))
                emu.step(1)
                rows.append(pressed)
                touches.append(touch if touch[2] else (0, 0, 0))
                screen = emu.screen()
                if on_frame is not None:
                    on_frame(frame, screen)
                frame += 1
                draw()
                if not fast:
                    next_t += period
                    wait = next_t - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                    elif wait < -0.25:
                        next_t = time.perf_counter()  # fell behind: don't rush to catch up
        finally:
            result.frames = frame
            if record is not None:
                frames = len(rows)
                movie = Movie(
                    game=integ.name, system=integ.system, button_names=["" if b is None else b for b in buttons],
                    buttons=np.array(rows, np.uint8).reshape(frames, 1, nb), rom_sha1=sha1_of_rom(rom),
                    backend=backend, core=getattr(emu, "core", None), start_state=movie_start,
                    touch=np.array(touches, np.int16).reshape(frames, 3) if touch_ok else None,
                    frame_rate=float(emu.frame_rate),
                    metadata={"recorded_by": "emurl play", "rerecords": result.rerecords},
                )
                save_movie(movie, record)
                result.movie, result.movie_path = movie, record
                say(f"recorded {frames} frames to {record}")
            pygame.display.quit()
    finally:
        emu.close()
    return result


__all__ = ["HOTKEYS", "KEYMAPS", "PlayResult", "format_keymap", "key_code", "key_press", "keymap", "play", "state_path"]
