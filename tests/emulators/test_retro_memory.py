"""stable-retro's memory as emurl reads it: a block slice gives what byte-by-byte reads give."""

from __future__ import annotations

import pytest

from emurl.emulators import open_emulator
from emurl.games import load_integration


@pytest.mark.parametrize("address, size", [(0x0400, 128), (0x0500, 128), (0x03F0, 32), (0x0000, 1), (0x07FF, 1)])
def test_read_bytes_is_the_bytes_at_those_addresses(address, size):
    """MiniDoc's playfields and a range across FCEUmm's 1 KiB blocks (0x3F0-0x40F)."""
    integ = load_integration("MiniDoc-Nes")
    emu = open_emulator(integ.require_rom(), integ.system)
    try:
        emu.load_state(integ.load_state_bytes("2P_L0_Low", "retro"))
        emu.step(30)  # the level drawn: viruses in both playfields
        assert emu.read_bytes(address, size) == bytes(emu.read(address + i, "|u1") for i in range(size))
        assert len(set(emu.read_bytes(0x0400, 128))) > 1  # not an empty bottle
    finally:
        emu.close()
