"""Fakes for the Mario Kart DS start-state tests: a fake emulator that runs the menus to a
race on the synthetic RAM of ``tests/mkds_memory.py``, and fake .nds files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mkds_memory import INFO_FACTS, POINTERS, REGIONS, STRUCTS, FakeDs, build_memory, fx


def fake_nds(path: Path, code: str = "AMCE", title: str = "MARIOKART DS") -> Path:
    header = bytearray(0x200)
    header[0 : len(title)] = title.encode()
    header[0x0C:0x10] = code.encode()
    path.write_bytes(bytes(header) + b"\0" * 0x1000)
    return path


class FakeMkds(FakeDs):
    """A fake DS running 'Mario Kart DS': records presses; the race starts at frame ``race_at``.

    With A held in the race, the kart drives: speed 15, progress +0.0005 and z +15 a frame.
    """

    backend = "fake"
    core = "fake core 1.0"

    def __init__(self, code="AMCE", race_at=1500, config=(22, 0, 0), drives=True):
        super().__init__()
        self.code, self.race_at, self.drives = code, race_at, drives
        self.frame, self.held, self.presses, self.backup, self.closed = 0, (), [], None, False
        ram = build_memory(code, decoys=False)
        self.mem = ram.mem
        off = REGIONS[code]
        self._racer_slot = POINTERS["driver"] + off
        self.write(self._racer_slot, "<u4", 0)
        self._scene = STRUCTS["scene"] + 0x10C
        self.write(self._scene, "|u1", 0)
        self.write(STRUCTS["rstate"] + 4, "<i4", 0)
        for (struct, offset), value in zip((("config", 0), ("config", 0x68), ("config", 0x6C)), config):
            self.write(STRUCTS[struct] + offset, "<i4", value)
        for name, value in (("speed", 0), ("race_progress", 0), ("lap", 1), ("in_air", 0), ("place", 1), ("floor_type", 0)):
            struct, offset, dtype, _, _ = INFO_FACTS[name]
            self.write(STRUCTS[struct] + offset, dtype, value)

    def load_backup(self, path):
        self.backup = path

    def set_buttons(self, pressed, player=0):
        self.held = tuple(b for b, p in zip(self.buttons, pressed) if p)

    def step(self, frames=1):
        for _ in range(frames):
            if self.held:
                self.presses.append((self.frame, self.held))
            self.frame += 1
            if self.race_at is not None and self.frame >= self.race_at:
                self.write(self._racer_slot, "<u4", STRUCTS["driver"])
                self.write(self._scene, "|u1", 2)
                self.write(STRUCTS["rstate"] + 4, "<i4", self.frame - self.race_at)
                if self.drives and "A" in self.held:
                    d, s = STRUCTS["driver"], STRUCTS["status"]
                    self.write(d + 0x2A8, "<i4", fx(15.0))
                    self.write(d + 0x88, "<i4", self.read(d + 0x88, "<i4") + fx(15.0))
                    self.write(s + 0x58, "<i4", self.read(s + 0x58, "<i4") + fx(0.0005))

    def screen(self):
        return np.zeros((384, 256, 3), np.uint8)

    def save_state(self):
        return b"fake state at frame %d" % self.frame

    def close(self):
        self.closed = True


def opener(fake):
    def open_emulator(rom, system, backend):
        assert system == "NintendoDs"
        return fake
    return open_emulator


def never_open(*args):
    raise AssertionError("no emulator may open before the ROM and save are checked")
