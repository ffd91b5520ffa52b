"""The emulator protocol: what every backend gives, and nothing about games or RL."""

from __future__ import annotations

import os
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from emurl.errors import EmulatorError

_live: dict[str, object] = {}


def claim_process_slot(backend: str, owner: object) -> None:
    """Record that ``backend`` now has its one emulator in this process.

    Raises:
        EmulatorError: another emulator of the same backend is open in this process.
            stable-retro and py-desmume keep global state, so a second instance would
            fail deep inside the library (or crash the process).
    """
    current = _live.get(backend)
    if current is not None and current is not owner:
        raise EmulatorError(
            f"a {backend} emulator is already open in this process (pid {os.getpid()}): "
            f"{backend} allows only one emulator per process. Close the first one "
            "(env.close()) or run the second in another process (emurl's vector envs "
            "use one process per env)."
        )
    _live[backend] = owner


def release_process_slot(backend: str, owner: object) -> None:
    if _live.get(backend) is owner:
        del _live[backend]


@runtime_checkable
class Emulator(Protocol):
    """One emulated console in this process.

    Optional, where a backend can (check with ``getattr``): ``supports_touch`` and
    ``set_touch(x, y, pressed)`` (DS touch screen, bottom-screen pixels);
    ``load_backup(path)`` (a cartridge save file, right after opening); ``power_on()``
    (hard reset); ``skip_render()`` (don't draw the next frame: its screen won't be read)
    with ``render_settle`` (how many frames before a read screen must be drawn too);
    ``stacked`` (DS: whether :meth:`screen` holds both screens) and ``show(which)`` (DS
    backends that output one screen at a time); ``core`` (the emulator core and version,
    for stamping states); ``default_actions`` (button groups for discrete actions);
    ``memory_blocks`` (address → size of each contiguous memory block) with
    ``read_spans(spans) -> bytes`` (the bytes of several ``(address, size)`` spans in one
    call: :class:`~emurl.games.variables.VariableReader` decodes fixed-address variables
    from them).

    Attributes:
        system: stable-retro's system name (``"Genesis"``, ``"Atari2600"``, ``"NintendoDs"``).
        buttons: the button names of one player's pad, in the bit order of a button mask.
        frame_rate: frames per emulated second (e.g. 59.92 for Genesis NTSC).
        backend: the backend's name (``"retro"``, ``"desmume"``, ...).
        players: controller ports this backend drives for the system: ``set_buttons(...,
            player=p)`` takes ``0 <= p < players`` (NES, SNES, Genesis, Atari 2600: 2; DS: 1).
    """

    system: str
    buttons: Sequence[str]
    frame_rate: float
    backend: str
    players: int

    def step(self, frames: int = 1) -> None:
        """Run ``frames`` frames with the buttons currently pressed."""

    def set_buttons(self, pressed: np.ndarray, player: int = 0) -> None:
        """Press buttons on controller port ``player`` (0 = the first): ``pressed`` is uint8 of
        shape ``(len(buttons),)``, 1 = down. Raises EmulatorError for a port the system lacks."""

    def screen(self) -> np.ndarray:
        """The current frame, uint8 of shape (H, W, 3), RGB. A new array each call."""

    def read(self, address: int, dtype: str) -> int:
        """Read one value at ``address`` with a stable-retro type string (``'>u2'``, ``'<i4'``, ``'>d4'`` BCD)."""

    def write(self, address: int, dtype: str, value: int) -> None:
        """Write one value at ``address`` with a stable-retro type string."""

    def ram(self) -> np.ndarray:
        """All of the system's RAM blocks concatenated, uint8 (a copy)."""

    def save_state(self) -> bytes:
        """The whole machine state as bytes (a savestate)."""

    def load_state(self, state: bytes) -> None:
        """Restore a savestate made by :meth:`save_state` of the same backend and ROM."""

    def close(self) -> None:
        """Free the emulator so that another may be opened in this process."""


class EmulatorWrapper:
    """An emulator standing in for another: every attribute not defined here is the inner
    emulator's. Subclass it and override the calls to watch or change (a tracer that
    records calls, a movie that supplies the buttons); install it in an env with
    :meth:`emurl.envs.EmulatorEnv.wrap_emulator`, which is the one sanctioned way to put
    something between an env and its emulator.

    Attributes:
        inner: the wrapped emulator (itself possibly a wrapper).
    """

    def __init__(self, inner: Emulator):
        self.inner = inner

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    @property
    def unwrapped(self) -> Emulator:
        """The innermost emulator."""
        inner = self.inner
        while isinstance(inner, EmulatorWrapper):
            inner = inner.inner
        return inner
