"""What an ``emurl play`` session records: each emulated frame's buttons and touch, the
states saved in it (for rerecords), and the :class:`~emurl.movies.Movie` made of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emurl.movies import Movie


class Recording:
    """The frames of a session, ``buttons[i]`` held during the ``i``-th frame run after the
    start state was loaded (the movie semantics of :mod:`emurl.movies.movie`).

    Args:
        n_buttons: the pad's button count.
        players: controller ports recorded (the movie's ``players``).
    """

    def __init__(self, n_buttons: int, players: int = 1):
        self.n_buttons, self.players = n_buttons, players
        self.rows: list[np.ndarray] = []
        self.touches: list[tuple[int, int, int]] = []
        self.saved: dict[str, tuple[bytes, int]] = {}  # state file → (state, frame) saved in this recording
        self.rerecords = 0

    @property
    def frames(self) -> int:
        return len(self.rows)

    def add(self, pressed: np.ndarray, touch: tuple[int, int, int]) -> None:
        """One frame: ``pressed`` uint8 (players, n_buttons) (or (n_buttons,) for one player),
        ``touch`` ``(x, y, pressed)`` (kept only while pressed, else ``(0, 0, 0)``)."""
        self.rows.append(pressed)
        self.touches.append(touch if touch[2] else (0, 0, 0))

    def saved_state(self, path: Path, state: bytes) -> None:
        """``state`` was saved to ``path`` now, at frame :attr:`frames`."""
        self.saved[str(path)] = (state, self.frames)

    def cut_back(self, path: Path) -> bytes | None:
        """A rerecord: the state saved to ``path`` in this recording, with the frames since it
        was saved cut off; None (and nothing cut) when it was not saved in this recording,
        since the movie could not follow a state it does not start from."""
        made = self.saved.get(str(path))
        if made is None:
            return None
        state, at = made
        del self.rows[at:], self.touches[at:]
        self.rerecords += 1
        return state

    def movie(self, *, game: str, system: str, buttons, rom_sha1: str, backend: str, core: str | None,
              start_state, touch: bool, frame_rate: float) -> Movie:
        """The recording as a :class:`~emurl.movies.Movie` of :attr:`players` players (``buttons``:
        the pad's names, None for an unused bit; ``touch``: keep the touch column)."""
        n = self.frames
        return Movie(
            game=game, system=system, button_names=["" if b is None else b for b in buttons],
            buttons=np.array(self.rows, np.uint8).reshape(n, self.players, self.n_buttons), rom_sha1=rom_sha1,
            backend=backend, core=core, start_state=start_state,
            touch=np.array(self.touches, np.int16).reshape(n, 3) if touch else None,
            frame_rate=frame_rate,
            metadata={"recorded_by": "emurl play", "rerecords": self.rerecords},
        )


__all__ = ["Recording"]
