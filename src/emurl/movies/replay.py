"""Replay a :class:`~emurl.movies.movie.Movie` on an emulator, to frames or to a video.

For example, with a movie of Airstriker-Genesis and its ROM::

    for frame, screen in replay(movie, "rom.md"):
        screen.shape, screen.dtype   # (224, 320, 3), uint8
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from emurl.emulators import BACKENDS, EmulatorWrapper, open_emulator
from emurl.errors import MovieError
from emurl.games import load_integration
from emurl.movies.movie import Movie


def start_state_bytes(movie: Movie, backend: str | None = None, game_path=None) -> bytes | None:
    """The bytes of the movie's start state: embedded bytes, a named state of the movie's
    integration (the one made for ``backend`` when there is one), or None (power-on).

    Raises:
        MovieError: a named state but no game.
        UnknownGameError, UnknownStateError: the integration or the state is not found.
    """
    state = movie.start_state
    if state is None or isinstance(state, bytes):
        return state
    if not movie.game:
        raise MovieError(f"start_state: the movie starts from state {state!r} but names no game to find it in")
    integ = load_integration(movie.game, game_path)
    data = integ.load_state_bytes(state, backend=backend)
    if data is None:
        raise MovieError(f"start_state: {movie.game} has no state {state!r}")
    return data


def _power_on(emulator, movie: Movie) -> None:
    """Put ``emulator`` at power-on, with the movie's cartridge save when it has one."""
    if movie.sram is not None:
        load_backup = getattr(emulator, "load_backup", None)
        if load_backup is None:
            raise MovieError(
                f"sram: the movie starts from a cartridge save, which the {emulator.backend} backend can't load"
            )
        with tempfile.TemporaryDirectory(prefix="emurl-sram-") as tmp:
            path = os.path.join(tmp, "start.sav")
            Path(path).write_bytes(movie.sram)
            load_backup(path)  # DeSmuME resets after importing a save
    power_on = getattr(emulator, "power_on", None)
    if power_on is not None and movie.sram is None:
        power_on()


class MovieInput(EmulatorWrapper):
    """An emulator whose buttons come from a movie, frame by frame; everything else is the emulator's.

    Put between an env and its emulator with
    ``env.unwrapped.wrap_emulator(lambda emu: MovieInput(emu, movie, start))``:
    ``load_state`` (the env's reset) loads the movie's start state instead of the env's
    and rewinds to frame 0; ``step`` runs frames with the movie's buttons (and touch) of
    each frame, none past its end; ``set_buttons`` and ``set_touch`` from the env are
    ignored. So an env's observations follow the movie exactly, whatever action it is given.

    Args:
        emulator: the open emulator (an env's ``emulator``).
        movie: the :class:`~emurl.movies.Movie`.
        start: the start state's bytes (:func:`emurl.movies.replay.start_state_bytes`),
            or None for power-on.

    Attributes:
        pads: uint8 (frames, players, len(emulator.buttons)): the movie's buttons.
        frame: the next frame to run (0 after a reset's ``load_state``).

    Raises:
        MovieError: a held button the emulator lacks, or touch it can't do.
    """

    def __init__(self, emulator, movie, start: bytes | None):
        super().__init__(emulator)
        self._movie = movie
        self._start = start
        players = 1 if getattr(emulator, "system", None) == "NintendoDs" else movie.players
        self.pads = movie.buttons_for(list(emulator.buttons), player_count=players)
        self._players = players
        touch = movie.touch
        if touch is not None and touch[:, 2].any():
            if not getattr(emulator, "supports_touch", False):
                raise MovieError(f"touch: the movie touches the screen, which the {emulator.backend} backend can't do")
        else:
            touch = None
        self._touch = touch
        self._last_touch = (0, 0, 0)
        self._zero = np.zeros(len(emulator.buttons), np.uint8)
        self.frame = 0

    def set_buttons(self, pressed, player: int = 0) -> None:
        """Ignored: the movie presses the buttons."""

    def set_touch(self, x: int, y: int, pressed: bool) -> None:
        """Ignored: the movie touches the screen."""

    def load_state(self, state: bytes | None) -> None:
        """Load the movie's start state (not ``state``) and rewind to frame 0. A movie from
        power-on: the emulator's power-on (with the movie's save), or ``state`` (an env's
        power-on snapshot) where the emulator has no ``power_on``."""
        emu = self.inner
        if self._start is not None:
            emu.load_state(self._start)
        elif state is None or self._movie.sram is not None or getattr(emu, "power_on", None) is not None:
            _power_on(emu, self._movie)
        else:
            emu.load_state(state)
        self.frame = 0
        self._last_touch = (0, 0, 0)

    def step(self, frames: int = 1) -> None:
        """Run ``frames`` frames, each with the buttons (and touch) the movie holds on it."""
        emu, pads, touch = self.inner, self.pads, self._touch
        for _ in range(frames):
            f = self.frame
            inside = f < len(pads)
            for p in range(self._players):
                emu.set_buttons(pads[f, p] if inside else self._zero, p)
            if touch is not None:
                t = tuple(int(v) for v in touch[f]) if inside else (0, 0, 0)
                if t != self._last_touch and (t[2] or self._last_touch[2]):
                    emu.set_touch(t[0], t[1], bool(t[2]))
                self._last_touch = t
            emu.step(1)
            self.frame = f + 1


def replay(
    movie: Movie,
    emulator_or_rom,
    *,
    game_path=None,
    backend: str | None = None,
    frames: Iterable[int] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Step an emulator through ``movie`` from its start state, yielding screens.

    Args:
        movie: the movie; frame ``i``'s buttons are held while the emulator runs frame i.
        emulator_or_rom: an open emulator (the :class:`~emurl.emulators.base.Emulator`
            protocol), or a ROM path: the emulator is then opened with
            ``open_emulator(rom, movie.system, backend or movie.backend)`` and closed
            when the generator finishes or is closed.
        game_path: extra integration folders (to find a named start state).
        backend: the backend to open a ROM path with (default: the movie's, else the
            system's default).
        frames: only yield these frame indices (default: every frame).

    Yields:
        ``(frame, screen)``: the screen after frame ``frame`` ran, uint8 (H, W, 3) RGB.

    A movie from power-on (``start_state`` None) needs a freshly opened emulator unless
    the backend has ``power_on()``; its ``sram`` needs a backend with ``load_backup()``
    (DeSmuME). Touch input needs ``set_touch(x, y, pressed)``.

    Raises:
        MovieError: a held button the emulator lacks, more players than it takes, touch
            or sram it can't take, or a named start state that can't be found.
        EmulatorError: the ROM can't be opened, or the state doesn't load.
    """
    owned = None
    if isinstance(emulator_or_rom, (str, os.PathLike)):
        chosen = backend or (movie.backend if movie.backend in BACKENDS else None)
        owned = open_emulator(str(emulator_or_rom), movie.system, chosen)
        emu = owned
    else:
        emu = emulator_or_rom
    try:
        yield from _run(movie, emu, game_path, frames)
    finally:
        if owned is not None:
            owned.close()


def _run(movie: Movie, emu, game_path, frames) -> Iterator[tuple[int, np.ndarray]]:
    drive = MovieInput(emu, movie, start_state_bytes(movie, getattr(emu, "backend", None), game_path))
    drive.load_state(None)
    wanted = None if frames is None else set(int(f) for f in frames)
    last_f = max(wanted) if wanted else movie.frames - 1
    for f in range(min(movie.frames, last_f + 1)):
        drive.step(1)
        if wanted is None or f in wanted:
            yield f, emu.screen()


def write_video(frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float) -> int:
    """Encode screens to a video file with imageio-ffmpeg (H.264 for ``.mp4``), atomically.

    Args:
        frames: uint8 (H, W, 3) RGB arrays, all the same size; consumed one at a time.
        path: the output file; its extension picks the container.
        fps: frames per second.

    Returns:
        The number of frames written.

    Raises:
        MovieError: ``path`` is a folder or lies in a file, no frames, or frames of
            different sizes.
    """
    import imageio.v2 as imageio  # lazy: 33-36 ms (PIL), needed by video output only

    path = Path(path)
    if path.is_dir():  # before encoding, not at the final rename
        raise MovieError(f"{path}: is a folder; expected the video file to write (e.g. {path / 'replay.mp4'})")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MovieError(f"{path}: cannot make its folder {path.parent}: {exc.strerror or exc}") from None
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    n = 0
    shape = None
    writer = imageio.get_writer(str(tmp), fps=float(fps), macro_block_size=1,
                                **({"codec": "libx264", "quality": 7} if path.suffix.lower() == ".mp4" else {}))
    try:
        for frame in frames:
            if shape is None:
                shape = frame.shape
            elif frame.shape != shape:
                raise MovieError(f"{path}: frame {n}: size {frame.shape} differs from the first frame's {shape}")
            writer.append_data(np.asarray(frame, np.uint8))
            n += 1
        writer.close()
        if n == 0:
            raise MovieError(f"{path}: no frames to write")
        os.replace(tmp, path)
    except BaseException:
        try:
            writer.close()
        except Exception:
            pass
        tmp.unlink(missing_ok=True)
        raise
    return n


def replay_to_video(movie: Movie, emulator_or_rom, path: str | os.PathLike, *, game_path=None,
                    backend: str | None = None, fps: float | None = None) -> int:
    """Replay ``movie`` and write every frame to the video ``path`` (fps: the movie's frame rate).

    Returns:
        The number of frames written.
    """
    screens = (s for _, s in replay(movie, emulator_or_rom, game_path=game_path, backend=backend))
    return write_video(screens, path, fps or movie.frame_rate)
