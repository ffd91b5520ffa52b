"""One ``emurl play`` session: :func:`play` opens the game and the window, :class:`Session`
runs the loop (events, hotkeys, one emulated frame at a time, the frame-rate throttle), and
the movie is written at the end. See :mod:`emurl.play` for the keys and the semantics."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pygame

from emurl.emulators import open_emulator
from emurl.errors import EmurlError
from emurl.fileio import STATE_SUFFIX, read_state, state_file_name, write_state
from emurl.games import load_integration
from emurl.games.integration import sha1_of_rom
from emurl.movies import EXTENSIONS, save_movie
from emurl.play.keymap import format_keymap, key_buttons
from emurl.play.recording import Recording
from emurl.play.window import Window


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


def state_path(integration, slot: str, backend: str) -> Path:
    """Where a state saved by ``emurl play`` goes: ``user_state_dir()/<slot>.state`` on
    ``"retro"`` (stable-retro's plain name), else ``<slot>.<backend>.state`` (the DS
    backends, whose states load only on the backend that made them); a gzip file of the
    savestate's bytes (:func:`emurl.fileio.write_state`).

    Raises:
        EmurlError: ``slot`` is not a plain state name (empty, starts with ``_``, which
            state listings skip, holds a ``/`` or ends in ``.state``).
    """
    if not slot or slot.startswith("_") or "/" in slot or os.sep in slot or slot.endswith(STATE_SUFFIX):
        raise EmurlError(f"--slot {slot!r}: expected a plain state name (not starting with '_', no '/', no .state)")
    return Path(integration.user_state_dir()) / state_file_name(slot, backend)


def check_players(integ, players: int, ports: int | None = None) -> None:
    """Refuse ``players`` humans where the game or the emulator has fewer: ``integ`` is the
    game's :class:`~emurl.games.Integration` (its ``players``), ``ports`` the controller
    ports the backend drives (``Emulator.players``; None: not known yet).

    Raises:
        EmurlError: ``players`` is not 1 or 2 (the key maps there are), more than the game
            has (the message names the game) or more than ``ports``.
    """
    if players not in (1, 2):
        raise EmurlError(f"--players {players}: emurl play has key maps for 1 or 2 players")
    if players > integ.players:
        raise EmurlError(f"{integ.name} is a {integ.players}-player game (its integration has no player "
                         f"{integ.players + 1}); --players {players} is not possible")
    if ports is not None and players > ports:
        raise EmurlError(f"{integ.name}: the emulator drives {ports} controller port(s) on {integ.system}; "
                         f"--players {players} is not possible")


def _start(integ, state: str | None, backend: str) -> tuple[bytes | None, str | bytes | None]:
    """(bytes to load, the movie's start_state) for ``state`` ('default', a name, or None)."""
    name = integ.default_state if state == "default" else state
    if name is None:
        return None, None
    data = integ.load_state_bytes(name, backend)
    path = integ.states(backend).get(name)
    shipped = path is not None and Path(path).parent == Path(integ.folder)
    return data, (name if shipped else data)


class Session:
    """The play loop on an open emulator and window.

    Args:
        emulator: the open emulator, at the start state.
        window: the :class:`~emurl.play.window.Window` showing it.
        screen: the emulator's screen now, uint8 (H, W, 3).
        key_bits: pygame key code → buttons held, uint8 (players, buttons): row ``p`` goes
            to port ``p`` (:func:`~emurl.play.keymap.key_buttons`).
        slot_file: the state file F5 writes and F7 reads.
        recording: where each frame's buttons go.
        recording_movie: whether a movie is being recorded (F7 then rerecords).
        touch: whether the emulator takes touches (``set_touch``); ``stacked``: whether the
            screen is the DS's two screens stacked (clicks on the bottom half touch).
        events, held, on_frame, fast, say: as :func:`play`'s (``say`` prints or not).
    """

    def __init__(self, emulator, window: Window, screen: np.ndarray, key_bits: dict[int, np.ndarray], slot_file: Path,
                 recording: Recording, recording_movie: bool, *, touch: bool, stacked: bool,
                 events: Iterable[tuple[int, object]] | None, held: Callable[[int], Iterable[int]] | None,
                 on_frame: Callable[[int, np.ndarray], None] | None, fast: bool, say: Callable[[str], None]):
        self.emu, self.window, self.key_bits, self.slot_file = emulator, window, key_bits, slot_file
        self.recording, self.recording_movie = recording, recording_movie
        self.touch_ok, self.stacked = touch, stacked
        self.script: dict[int, list] = {}
        for f, ev in events or ():
            self.script.setdefault(int(f), []).append(ev)
        self.scripted = events is not None or held is not None
        self.held, self.on_frame, self.fast, self.say = held, on_frame, fast, say
        self.saved_states: list[Path] = []
        self.keys_down: set[int] = set()
        self.touch = (0, 0, 0)
        self.paused = False
        self.advance = 0
        self.frame = 0
        self.screen = screen
        self.running = True
        self.period = 1.0 / float(emulator.frame_rate or 60.0)
        self.players = recording.players
        self.next_t = time.perf_counter()

    def run(self, max_frames: int | None = None) -> None:
        """Run until Esc, the window closed, ``max_frames`` or (scripted) a pause nothing can resume."""
        while self.running:
            if max_frames is not None and self.frame >= max_frames:
                break
            for ev in self.script.pop(self.frame, ()):
                pygame.event.post(ev)
            for ev in pygame.event.get():
                self.handle(ev)
            if not self.running:
                break
            if self.paused and self.advance == 0:
                if self.scripted:
                    break  # this frame's scripted events are spent: nothing can resume the game
                self.draw()
                time.sleep(1 / 60)
                self.next_t = time.perf_counter()
                continue
            if self.paused:
                self.advance -= 1
            self.step()
            if not self.fast:
                self.throttle()

    def notice(self, text: str) -> None:
        self.window.notice(text)
        self.say(text)

    def draw(self) -> None:
        status = [f"frame {self.frame}"]
        if self.paused:
            status.append("paused")
        if self.recording_movie:
            status.append("REC")
        self.window.draw(self.screen, status)

    # -- input --------------------------------------------------------------------------
    def handle(self, ev) -> None:
        """One pygame event: quit, a hotkey, a key held, focus lost, or the mouse as touch."""
        if ev.type == pygame.QUIT:
            self.running = False
        elif ev.type == pygame.KEYDOWN:
            self.key_down(ev.key)
        elif ev.type == pygame.KEYUP:
            self.keys_down.discard(ev.key)
        elif ev.type == pygame.WINDOWFOCUSLOST:
            self.keys_down.clear()
        elif ev.type == pygame.MOUSEBUTTONDOWN and ev.button == 1 and self.stacked:
            t = self.window.touch_at(ev.pos)
            if t is not None:
                if self.touch_ok:
                    self.touch = t
                else:
                    self.notice(f"the {self.emu.backend} backend can't touch the screen (use --backend desmume)")
        elif ev.type == pygame.MOUSEMOTION and self.touch[2]:
            t = self.window.touch_at(ev.pos)
            if t is not None:
                self.touch = t
        elif ev.type == pygame.MOUSEBUTTONUP and ev.button == 1:
            self.touch = (self.touch[0], self.touch[1], 0)

    def key_down(self, k: int) -> None:
        if k == pygame.K_ESCAPE:
            self.running = False
        elif k == pygame.K_p:
            self.paused = not self.paused
            self.advance = 0
        elif k in (pygame.K_n, pygame.K_PERIOD):
            if self.paused:
                self.advance += 1
        elif k == pygame.K_F1:
            self.window.show_help = not self.window.show_help
        elif k == pygame.K_F5:
            self.save_state()
        elif k == pygame.K_F7:
            self.load_state()
        else:
            self.keys_down.add(k)

    # -- states -------------------------------------------------------------------------
    def save_state(self) -> None:
        """F5: write the state to the slot file (and remember it for a rerecord)."""
        data = self.emu.save_state()
        write_state(self.slot_file, data)
        self.saved_states.append(self.slot_file)
        self.recording.saved_state(self.slot_file, data)
        self.notice(f"state saved: {self.slot_file} (frame {self.frame})")

    def load_state(self) -> None:
        """F7: while recording, go back to the slot's state saved in this recording and cut the
        movie there (a rerecord); else load the slot file."""
        if self.recording_movie:
            data = self.recording.cut_back(self.slot_file)
            if data is None:
                self.notice(f"not loaded: {self.slot_file.name} was not saved in this recording, so "
                            "the movie could not follow it (F5 first)")
                return
            self.emu.load_state(data)
            self.frame = self.recording.frames
            self.notice(f"state loaded: movie cut back to frame {self.frame} (rerecord {self.recording.rerecords})")
        elif self.slot_file.is_file():
            self.emu.load_state(read_state(self.slot_file))
            self.notice(f"state loaded: {self.slot_file}")
        else:
            self.notice(f"no state to load: {self.slot_file} (F5 saves one)")
        self.screen = self.emu.screen()

    # -- frames -------------------------------------------------------------------------
    def step(self) -> None:
        """Run one emulated frame with the keys held now (each player's on its port, and the
        touch), record it, show it."""
        pressed = np.zeros((self.players, len(self.emu.buttons)), np.uint8)
        codes = set(self.keys_down)
        if self.held is not None:
            codes |= {int(c) for c in self.held(self.frame)}
        for c in codes:
            bits = self.key_bits.get(c)
            if bits is not None:
                pressed |= bits
        for p in range(self.players):
            self.emu.set_buttons(pressed[p], p)
        if self.touch_ok:
            self.emu.set_touch(self.touch[0], self.touch[1], bool(self.touch[2]))
        self.emu.step(1)
        self.recording.add(pressed, self.touch)
        self.screen = self.emu.screen()
        if self.on_frame is not None:
            self.on_frame(self.frame, self.screen)
        self.frame += 1
        self.draw()

    def throttle(self) -> None:
        """Sleep to the game's frame rate."""
        self.next_t += self.period
        wait = self.next_t - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        elif wait < -0.25:
            self.next_t = time.perf_counter()  # fell behind: don't rush to catch up


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
    players: int = 1,
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
        players: 1, or 2 for two people at one keyboard: player 1's keys press port 1's
            buttons, player 2's (:data:`~emurl.play.keymap.PLAYER2_KEYS`) port 2's, every
            frame; a movie records both (``.emv`` and ``.bk2``; ``.dsm`` is DS only).
        events: scripted ``(frame, pygame.event.Event)`` pairs, each posted to pygame's
            queue just before emulated frame ``frame`` runs (see :func:`~emurl.play.key_press`).
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
            bad ``slot`` or ``scale``; ``players=2`` on a one-player game or a
            one-port emulator (:func:`check_players`); UnknownGameError, RomNotFoundError,
            UnknownStateError, EmulatorError as the game's env would.
    """
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
    check_players(integ, players)
    rom = integ.require_rom()
    emu = open_emulator(rom, integ.system, backend)
    say = print if verbose else (lambda *a, **k: None)
    try:
        check_players(integ, players, getattr(emu, "players", 1))
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
        touch_ok = bool(getattr(emu, "supports_touch", False))
        stacked = integ.system == "NintendoDs" and bool(getattr(emu, "stacked", False))
        if getattr(emu, "show", None) is not None and not stacked:
            emu.show("top")
        first = emu.screen()
        help_lines = format_keymap(integ.system, buttons, touch_ok and stacked, players).splitlines()
        window = Window(f"emurl play {integ.name}", first.shape[0], first.shape[1], scale, help_lines)
        recording = Recording(len(buttons), players)
        session = Session(emu, window, first, key_buttons(integ.system, buttons, players), slot_file, recording,
                          record is not None, touch=touch_ok, stacked=stacked, events=events, held=held,
                          on_frame=on_frame, fast=fast, say=say)
        try:
            session.run(max_frames)
        finally:
            result = PlayResult(frames=session.frame, saved_states=session.saved_states,
                                rerecords=recording.rerecords, window=window.size)
            if record is not None:
                movie = recording.movie(game=integ.name, system=integ.system, buttons=buttons, rom_sha1=sha1_of_rom(rom),
                                        backend=backend, core=getattr(emu, "core", None), start_state=movie_start,
                                        touch=touch_ok, frame_rate=float(emu.frame_rate))
                save_movie(movie, record)
                result.movie, result.movie_path = movie, record
                say(f"recorded {recording.frames} frames to {record}")
            window.close()
    finally:
        emu.close()
    return result


__all__ = ["PlayResult", "Session", "check_players", "play", "state_path"]
