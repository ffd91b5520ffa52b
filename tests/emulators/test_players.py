"""Buttons per controller port: the emulator layer says how many players a system has."""

from __future__ import annotations

import numpy as np
import pytest

from emurl.emulators import open_emulator
from emurl.errors import EmulatorError
from emurl.games import load_integration


def _ram_after(emu, state: bytes, port: int | None, button: str | None, frames: int = 90) -> np.ndarray:
    """RAM after ``frames`` frames from ``state`` with ``button`` held on ``port`` (None: nothing pressed)."""
    emu.load_state(state)
    zero = np.zeros(len(emu.buttons), np.uint8)
    held = zero.copy()
    if button:
        held[emu.buttons.index(button)] = 1
    for _ in range(frames):
        emu.set_buttons(held if port == 0 else zero, 0)
        emu.set_buttons(held if port == 1 else zero, 1)
        emu.step()
    return emu.ram()


def test_atari_2600_second_port_moves_the_second_paddle(atari_roms):
    """Pong's two-player state (stable-retro's): port 2's RIGHT moves what port 1's does not."""
    integ = load_integration("Pong-Atari2600")
    emu = open_emulator(integ.require_rom(), integ.system)
    try:
        assert emu.players == 2
        state = integ.load_state_bytes("Start.2P", "retro")
        idle = _ram_after(emu, state, None, None)
        p1 = set(np.flatnonzero(_ram_after(emu, state, 0, "RIGHT") != idle))
        p2 = set(np.flatnonzero(_ram_after(emu, state, 1, "RIGHT") != idle))
        assert p1 and p2 and not p1 & p2  # each port moves its own paddle's bytes, and only those
        with pytest.raises(EmulatorError, match="Atari2600 has 2 controller port.*no player 2"):
            emu.set_buttons(np.zeros(len(emu.buttons), np.uint8), 2)
    finally:
        emu.close()


def test_one_player_systems_refuse_a_second_port():
    integ = load_integration("MiniKart-NintendoDs")
    emu = open_emulator(integ.require_rom(), integ.system)
    try:
        assert emu.players == 1
        with pytest.raises(EmulatorError, match="one player's buttons.*not player 1"):
            emu.set_buttons(np.zeros(len(emu.buttons), np.uint8), 1)
    finally:
        emu.close()
