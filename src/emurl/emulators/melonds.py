"""melonDS, stable-retro's libretro core for the Nintendo DS, with absolute DS addresses;
the view of the console both DS backends share is in :mod:`emurl.emulators.ds`."""

from __future__ import annotations

import os
from importlib import metadata

import numpy as np

from emurl.emulators.ds import (
    DS_BUTTONS,
    MAIN_RAM,
    FRAME_RATE,
    DEFAULT_ACTIONS,
    _check_main_ram,
    check_nds_header,
    _quiet,
)
from emurl.emulators.retro import RetroBackend
from emurl.errors import EmulatorError


# -- melonDS ---------------------------------------------------------------------------
class MelonDSBackend(RetroBackend):
    """melonDS, stable-retro's libretro core for the DS, with absolute DS addresses.

    stable-retro exposes main RAM as one block addressed from 0 (its integrations use
    offsets from 0x02000000); this backend adds the base back so an integration's
    addresses mean the same on both DS backends.

    Screens: this build of the core outputs one 256×192 screen per frame, the bottom
    screen unless its "swap screens" input (libretro R2) is held. The backend holds it
    while :attr:`shown` is ``"top"`` (the default): :meth:`screen` is then the top
    screen, uint8 (192, 256, 3). ``show("bottom")`` switches from the next frame on.

    Touch: stable-retro's input callback answers every device with the joypad's button
    state, so the libretro pointer can't be driven: :meth:`set_touch` raises. Use the
    desmume backend for games that need the touch screen.

    Files: none are left. The core maps its fast memory through ``/dev/shm/melondsfastmem<pid>``,
    which it unlinks at once, and writes nothing to the home or working folder (checked by
    ``tests/emulators/test_desmume_files.py``, also after ``kill -9``).

    Raises:
        EmulatorError: as :class:`RetroBackend` (one stable-retro emulator per process).
    """

    backend = "melonds"
    supports_touch = False
    stacked = False
    _SWAP = 13  # libretro R2: melonDS's "swap screens" input

    def __init__(self, rom_path: str):
        if os.path.splitext(str(rom_path))[1].lower() != ".nds":
            raise EmulatorError(f"{rom_path}: the melonds backend runs .nds ROMs")
        if os.path.isfile(rom_path):
            check_nds_header(str(rom_path))
        with _quiet():  # melonDS prints its protection-unit and JIT setup
            super().__init__(str(rom_path))
        self.buttons = list(DS_BUTTONS)
        self.default_actions = DEFAULT_ACTIONS
        self.frame_rate = FRAME_RATE
        self.players = 1
        self._pad = np.zeros(16, np.uint8)
        self.shown = "top"
        self._pad[self._SWAP] = 1
        self._em.set_button_mask(self._pad, 0)
        try:
            version = metadata.version("stable-retro")
        except metadata.PackageNotFoundError:  # pragma: no cover
            version = "?"
        self.core = f"melonDS (stable-retro {version})"
        blocks = self.memory_blocks
        self._base = MAIN_RAM[0] - min(blocks) if blocks else MAIN_RAM[0]

    def set_buttons(self, pressed: np.ndarray, player: int = 0) -> None:
        if player != 0:
            raise EmulatorError(f"the DS has one player's buttons (player 0), not player {player}")
        pad = self._pad
        pad[: len(DS_BUTTONS)] = np.asarray(pressed, np.uint8)[: len(DS_BUTTONS)]
        self._em.set_button_mask(pad, 0)

    def show(self, which: str) -> None:
        """Output the ``"top"`` or ``"bottom"`` screen from the next frame on."""
        if which not in ("top", "bottom"):
            raise EmulatorError(f"the melonds backend shows 'top' or 'bottom', one at a time; got {which!r}")
        self.shown = which
        self._pad[self._SWAP] = which == "top"
        self._em.set_button_mask(self._pad, 0)

    def set_touch(self, x: int, y: int, pressed: bool) -> None:
        if pressed:
            raise EmulatorError(
                "the melonds backend can't touch the screen (stable-retro passes only "
                "joypad input to its cores); use backend='desmume'"
            )

    def screen(self) -> np.ndarray:
        """The :attr:`shown` screen, uint8 (192, 256, 3) RGB."""
        return self._em.get_screen()

    read_spans = None
    """None: no span reads (the inherited ones would take DS addresses as the core's own,
    whose main RAM block starts at 0); each variable is one :meth:`read`."""

    def read(self, address: int, dtype: str) -> int:
        _check_main_ram(address, int(dtype[-1]), self.backend)
        return self._memory.extract(address - self._base, dtype)

    def write(self, address: int, dtype: str, value: int) -> None:
        _check_main_ram(address, int(dtype[-1]), self.backend)
        self._memory.assign(address - self._base, dtype, value)

    def read_bytes(self, address: int, size: int) -> bytes:
        _check_main_ram(address, size, self.backend)
        return super().read_bytes(address - self._base, size)

    def load_state(self, state: bytes) -> None:
        # melonDS's core accepts any bytes (and then runs garbage): check the magic first.
        if not state.startswith(b"MELN"):
            raise EmulatorError(
                f"{self.rom_path}: melonDS refused the savestate ({len(state)} bytes): it is not a "
                f"melonDS savestate (starts {bytes(state[:4])!r}; DeSmuME's start b'DeSm')"
            )
        with _quiet():
            super().load_state(state)

    def load_backup(self, path: str) -> None:
        raise EmulatorError(
            f"{path}: the melonds backend can't load a cartridge save (stable-retro gives "
            "its cores no save folder); use backend='desmume' to start from a save file"
        )
