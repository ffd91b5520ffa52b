"""Recording what an env presses, frame by frame, as a :class:`~emurl.movies.Movie`.

:class:`InputRecorder` sits between an env and its emulator
(``env.unwrapped.wrap_emulator(InputRecorder)``) and keeps, from each ``load_state`` on
(an env's reset), the buttons of every controller port and the touch point held on every
frame the emulator runs. Its :meth:`~InputRecorder.movie` starts from the state the
emulator was in when the episode's first frame ran: the bytes the reset loaded, or, when
the reset wrote memory before that frame (a seeded episode start, e.g. MiniDoc's virus
seed, ``MiniDoc-Nes/metadata.json`` ``"episode_start"``), a savestate taken right then. Every
frame after it (the reset's own frame, an episode-start script's, random no-ops, then
each agent step's) is in the movie, so :func:`emurl.movies.replay.replay` on a bare
emulator runs the episode's frames exactly.

:func:`state_digest` fingerprints an emulator's screen and RAM, so that a replay can
say it ended where the recording did.
"""

from __future__ import annotations

import hashlib

import numpy as np

from emurl.emulators import EmulatorWrapper
from emurl.games.romsha import sha1_of_rom
from emurl.movies.movie import Movie


def state_digest(emulator) -> dict:
    """SHA-1s of the current screen (uint8 (H, W, 3) bytes) and of all RAM (``ram()``), as
    ``{"screen_sha1": HEX, "ram_sha1": HEX}``: equal digests, the same picture and memory."""
    return {
        "screen_sha1": hashlib.sha1(np.ascontiguousarray(emulator.screen()).tobytes()).hexdigest(),
        "ram_sha1": hashlib.sha1(np.ascontiguousarray(emulator.ram()).tobytes()).hexdigest(),
    }


class InputRecorder(EmulatorWrapper):
    """An emulator that remembers the inputs of every frame it runs since the last ``load_state``.

    Args:
        emulator: the emulator to record (an env's ``emulator``).
        players: controller ports recorded (default: every port the emulator drives, its
            ``players``; a port it lacks is refused by the emulator itself).

    Attributes:
        recorded_frames: frames run since the last ``load_state``.

    Costs one list append per ``step`` call; a savestate only for an episode whose reset
    wrote memory before its first frame.
    """

    def __init__(self, emulator, players: int | None = None):
        super().__init__(emulator)
        self._ports = int(players or getattr(emulator, "players", 1) or 1)
        self._n_buttons = len(emulator.buttons)
        zero = bytes(self._n_buttons)
        self._pads = [zero] * self._ports  # what each port holds now (bytes of uint8 0/1)
        self._touch = (0, 0, 0)
        self._runs: list[tuple[tuple[bytes, ...], tuple[int, int, int], int]] = []  # (pads, touch, frames)
        self._loaded: bytes | None = None
        self._start: bytes | None = None
        self._wrote = False
        self._recording = False
        self.recorded_frames = 0
        self._rom_sha1: str | None = None

    # -- what the env calls ------------------------------------------------------------
    def set_buttons(self, pressed, player: int = 0) -> None:
        self.inner.set_buttons(pressed, player)
        if 0 <= player < self._ports:
            self._pads[player] = np.asarray(pressed, np.uint8)[: self._n_buttons].astype(bool).astype(np.uint8).tobytes()

    def set_touch(self, x: int, y: int, pressed: bool) -> None:
        self.inner.set_touch(x, y, pressed)
        self._touch = (int(x), int(y), 1) if pressed else (0, 0, 0)

    def write(self, address: int, dtype: str, value: int) -> None:
        self.inner.write(address, dtype, value)
        self._wrote = True

    def load_state(self, state: bytes) -> None:
        """Load ``state`` and start a new recording from it."""
        self.inner.load_state(state)
        self._loaded = state
        self._start = None
        self._wrote = False
        self._runs = []
        self.recorded_frames = 0
        self._recording = True

    def step(self, frames: int = 1) -> None:
        if self._recording and self.recorded_frames == 0 and self._start is None:
            # the state the first frame starts from: the loaded bytes, unless memory was written since
            self._start = self.inner.save_state() if self._wrote else self._loaded
        self.inner.step(frames)
        if frames > 0:
            key = (tuple(self._pads), self._touch)
            if self._runs and self._runs[-1][:2] == key:
                pads, touch, n = self._runs[-1]
                self._runs[-1] = (pads, touch, n + frames)
            else:
                self._runs.append((key[0], key[1], frames))
            self.recorded_frames += frames

    # -- the recording ------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        """Whether a ``load_state`` started a recording (frames before it are not kept)."""
        return self._recording

    def held(self) -> np.ndarray:
        """uint8 (frames, players, len(emulator.buttons)): the buttons held on each frame, 1 = down."""
        out = np.zeros((self.recorded_frames, self._ports, self._n_buttons), np.uint8)
        f = 0
        for pads, _, n in self._runs:
            for p, row in enumerate(pads):
                out[f:f + n, p] = np.frombuffer(row, np.uint8)
            f += n
        return out

    def touched(self) -> np.ndarray | None:
        """int16 (frames, 3): x, y, pressed of each frame; None when the screen was never touched."""
        if not any(t[2] for _, t, _ in self._runs):
            return None
        out = np.zeros((self.recorded_frames, 3), np.int16)
        f = 0
        for _, t, n in self._runs:
            out[f:f + n] = t
            f += n
        return out

    def movie(self, game: str | None, rom_path: str | None, metadata: dict | None = None) -> Movie:
        """The recording as a :class:`~emurl.movies.Movie` from the episode's start state (bytes).

        Args:
            game: the integration's name, for replay to find the ROM.
            rom_path: the ROM file, whose SHA-1 the movie is stamped with (hashed once per recorder).
            metadata: the movie's free-form metadata (JSON-serialisable).

        Raises:
            ValueError: nothing was recorded yet (no ``load_state``).
        """
        if not self._recording:
            raise ValueError("InputRecorder: no recording (the env has not loaded a start state since it was wrapped)")
        if self._rom_sha1 is None and rom_path is not None:
            self._rom_sha1 = sha1_of_rom(rom_path)
        emu = self.unwrapped
        start = self._start if self._start is not None else (self.inner.save_state() if self._wrote else self._loaded)
        return Movie(
            game=game, system=emu.system, button_names=[b or "" for b in emu.buttons], buttons=self.held(),
            rom_sha1=self._rom_sha1, backend=emu.backend, core=getattr(emu, "core", None), start_state=start,
            touch=self.touched(), frame_rate=float(emu.frame_rate), metadata=dict(metadata or {}),
        )


__all__ = ["InputRecorder", "state_digest"]
