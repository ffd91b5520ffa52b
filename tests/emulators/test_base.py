"""The emulator protocol's pieces that need no core: the one-emulator-per-process slot,
EmulatorWrapper's delegation, backend choice; and that the tests' fake emulator keeps
the protocol (so that what the fake-backed tests show holds for real backends)."""

from __future__ import annotations

import numpy as np
import pytest

from emurl.emulators import Emulator, EmulatorWrapper, resolve_backend
from emurl.emulators.base import claim_process_slot, release_process_slot
from emurl.errors import EmulatorError
from fakes import ADDR, BUTTONS, FakeEmulator


def test_one_emulator_per_backend_and_process():
    first, second = object(), object()
    claim_process_slot("test-backend", first)
    try:
        claim_process_slot("test-backend", first)  # the owner again: fine
        with pytest.raises(EmulatorError, match="a test-backend emulator is already open in this process"):
            claim_process_slot("test-backend", second)
        claim_process_slot("other-backend", second)  # another backend has its own slot
        release_process_slot("other-backend", second)
        release_process_slot("test-backend", second)  # not the owner: the slot stays taken
        with pytest.raises(EmulatorError):
            claim_process_slot("test-backend", second)
    finally:
        release_process_slot("test-backend", first)
    claim_process_slot("test-backend", second)
    release_process_slot("test-backend", second)


def test_wrapper_delegates_and_overrides():
    class Doubler(EmulatorWrapper):
        def step(self, frames=1):
            self.inner.step(2 * frames)

    emu = FakeEmulator()
    outer = EmulatorWrapper(Doubler(emu))
    assert outer.unwrapped is emu and outer.inner.unwrapped is emu
    assert outer.buttons == BUTTONS and outer.system == "Fake"  # attributes come from inside
    outer.step(3)
    assert emu.peek("frame") == 6
    outer.write(ADDR["score"], ">u2", 0x1234)
    assert outer.read(ADDR["score"], ">u2") == 0x1234 == emu.peek("score")


@pytest.mark.parametrize(
    "system, asked, backend",
    [("NintendoDs", None, "desmume"), ("NintendoDs", "retro", "melonds"), ("NintendoDs", "melonds", "melonds"),
     ("Genesis", None, "retro"), ("Atari2600", "retro", "retro")],
)
def test_backend_choice(system, asked, backend):
    assert resolve_backend(system, asked) == backend


def test_the_fake_keeps_the_protocol():
    emu = FakeEmulator()
    assert isinstance(emu, Emulator)
    state = emu.save_state()
    emu.set_buttons(np.array([0, 1, 0, 0, 1, 0, 0, 1], np.uint8))  # A, UP, RIGHT
    emu.step(12)
    assert (emu.peek("score"), emu.peek("x"), emu.peek("bcd")) == (12, 76, 12)
    assert emu.ram()[ADDR["bcd"]:ADDR["bcd"] + 2].tolist() == [0x00, 0x12]  # BCD in RAM
    screen = emu.screen()
    assert screen.shape == (96, 128, 3) and screen.dtype == np.uint8 and screen[-1, 0, 2] == 12
    emu.load_state(state)
    assert emu.peek("score") == 0 and emu.peek("x") == 64
    with pytest.raises(EmulatorError, match="not a fake savestate"):
        emu.load_state(b"RIFF" + bytes(64))
    emu.write(0x10, "<i2", -2)
    assert emu.read(0x10, "<i2") == -2 and emu.read(0x10, "<u2") == 0xFFFE and emu.read(0x10, ">u2") == 0xFEFF
