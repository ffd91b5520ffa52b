"""Emulators: one console in one process, behind the :class:`Emulator` protocol."""

from __future__ import annotations

from emurl.emulators.base import Emulator
from emurl.errors import EmulatorError

BACKENDS = ("retro",)


def open_emulator(rom_path: str, system: str | None = None, backend: str | None = None) -> Emulator:
    """Open ``rom_path`` on ``backend`` (default: stable-retro's core for the ROM's system).

    Raises:
        EmulatorError: unknown backend, unreadable ROM, or a second emulator in this process.
    """
    backend = backend or "retro"
    if backend == "retro":
        from emurl.emulators.retro import RetroBackend

        return RetroBackend(rom_path)
    raise EmulatorError(f"unknown emulator backend {backend!r} (backends: {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "Emulator", "EmulatorError", "open_emulator"]
