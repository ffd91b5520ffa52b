"""Emulators: one console in one process, behind the :class:`Emulator` protocol."""

from __future__ import annotations

import os

from emurl.emulators.base import Emulator, EmulatorWrapper
from emurl.emulators.desmume import DesmumeBackend
from emurl.emulators.melonds import MelonDSBackend
from emurl.emulators.retro import RetroBackend, system_of_rom
from emurl.errors import EmulatorError
from emurl.fileio import BACKENDS

DS_BACKENDS = ("desmume", "melonds")
"""The backends that run Nintendo DS games (of :data:`BACKENDS`)."""

DEFAULT_BACKEND = {"NintendoDs": "desmume"}
"""The backend a system gets when none is named (others: stable-retro's core)."""


def resolve_backend(system: str | None, backend: str | None) -> str:
    """The backend that ``open_emulator`` uses for ``system`` when asked for ``backend``:
    None means :data:`DEFAULT_BACKEND` for the system (else ``"retro"``), and ``"retro"``
    for a Nintendo DS game means ``"melonds"`` (stable-retro's core, with DS addresses)."""
    if backend is None:
        backend = DEFAULT_BACKEND.get(system, "retro")
    if system == "NintendoDs" and backend == "retro":
        backend = "melonds"
    return backend


def open_emulator(rom_path: str, system: str | None = None, backend: str | None = None,
                  save: str | os.PathLike | None = None) -> Emulator:
    """Open ``rom_path`` on ``backend``: ``"retro"`` (stable-retro's core for the ROM's
    system), ``"desmume"`` or ``"melonds"`` (Nintendo DS). Default: :data:`DEFAULT_BACKEND`
    for the system, else ``"retro"``. ``save``: a cartridge save file (raw ``.sav`` or
    ``.dsv``) the game starts with, as its backup memory (desmume only).

    Raises:
        EmulatorError: unknown backend, unreadable ROM, a second emulator in this process,
            or a save file the backend can't load (a missing file, another backend).
    """
    if system is None and backend != "desmume":
        system = system_of_rom(rom_path)
    backend = resolve_backend(system, backend)
    if save is not None and backend != "desmume":
        raise EmulatorError(f"{save}: a cartridge save file is loaded by the desmume backend only, not {backend}")
    if backend in DS_BACKENDS and system not in (None, "NintendoDs"):
        raise EmulatorError(f"{rom_path}: the {backend} backend runs Nintendo DS games, not {system}")
    if backend == "desmume":
        return DesmumeBackend(rom_path, backup=save)
    if backend == "melonds":
        return MelonDSBackend(rom_path)
    if backend == "retro":
        return RetroBackend(rom_path)
    raise EmulatorError(f"unknown emulator backend {backend!r} (backends: {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "DS_BACKENDS", "resolve_backend", "Emulator", "EmulatorError", "EmulatorWrapper", "open_emulator"]
