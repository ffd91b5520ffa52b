"""Synthetic Dr. Mario NES RAM for tests that need no ROM: the memory map laid out from the facts
file (docs/facts/dr-mario.md) independently of ``data.json``, so that a wrong address or type
there fails the tests that read it.

``FACTS``: variable name → (address, type, raw value written, decoded value);
:func:`build_memory` writes them (and two playfields) into a :class:`FakeNesRam`, which
reads like the retro backend (``read`` with stable-retro types, BCD included, and
``read_bytes``). :func:`tiles` draws a playfield from text.
"""

from __future__ import annotations

import numpy as np

GAME = "DrMario-Nes"
RAM_SIZE = 0x800
PLAYFIELD = {1: 0x0400, 2: 0x0500}

# name: (address, type, raw byte, decoded value) -- docs/facts/dr-mario.md
_P1 = {
    "viruses": (0x0324, "|d1", 0x12, 12),  # BCD: the screen's "12"
    "capsule_left": (0x0301, "|u1", 0, 0),
    "capsule_right": (0x0302, "|u1", 2, 2),
    "capsule_x": (0x0305, "|u1", 3, 3),
    "capsule_y": (0x0306, "|u1", 15, 15),
    "rotation": (0x0325, "|u1", 0, 0),
    "next_left": (0x031A, "|u1", 1, 1),
    "next_right": (0x031B, "|u1", 1, 1),
    "speed_counter": (0x0312, "|u1", 17, 17),
    "level": (0x0316, "|u1", 2, 2),
    "victories": (0x031E, "|u1", 1, 1),
}
_P2_RAW = {"viruses": (0x20, 20), "capsule_left": (2, 2), "capsule_right": (1, 1), "capsule_x": (5, 5),
           "capsule_y": (9, 9), "rotation": (1, 1), "next_left": (0, 0), "next_right": (2, 2),
           "speed_counter": (3, 3), "level": (4, 4), "victories": (2, 2)}
FACTS = {f"{k}_p1": v for k, v in _P1.items()}
FACTS.update({f"{k}_p2": (_P1[k][0] + 0x80, _P1[k][1], *_P2_RAW[k]) for k in _P1})
FACTS.update({
    "mode": (0x0046, "|u1", 4, 4),
    "winner": (0x0055, "|u1", 0, 0),
    "players": (0x0727, "|u1", 2, 2),
    "frame": (0x0043, "|u1", 0x9C, 0x9C),
})

# one character per tile: "." empty (0xFF), "y" "r" "b" viruses (0xD_), "Y" "R" "B" single
# capsule halves (0x8_), "<" ">" a yellow left / blue right half (0x60, 0x72), "*" a cleared
# yellow tile (0xB0), "o" a just-emptied red one (0xF1)
_CODES = {".": 0xFF, "y": 0xD0, "r": 0xD1, "b": 0xD2, "Y": 0x80, "R": 0x81, "B": 0x82, "*": 0xB0, "o": 0xF1, "<": 0x60, ">": 0x72}


def tiles(rows: list[str]) -> np.ndarray:
    """A board, uint8 (16, 8), from up to 16 strings of 8 characters: the bottom rows, the
    ones above empty (characters: the comment above)."""
    out = np.full((16, 8), 0xFF, np.uint8)
    for i, row in enumerate(rows):
        assert len(row) == 8, row
        out[16 - len(rows) + i] = [_CODES[c] for c in row]
    return out


class FakeNesRam:
    """2 KiB of NES work RAM, read and written like the retro backend (stable-retro types, BCD
    ``d``), with ``read_bytes`` unless ``block_reads=False`` (then array variables fall
    back to one read per element)."""

    buttons = ("B", None, "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT", "A")

    def __init__(self, block_reads: bool = True):
        self.mem = bytearray([0] * RAM_SIZE)
        self.reads = 0
        if not block_reads:
            self.read_bytes = None

    def read(self, address: int, dtype: str) -> int:
        self.reads += 1
        size, kind = int(dtype[-1]), dtype[-2]
        raw = bytes(self.mem[address:address + size])
        raw = raw if ">" in dtype or size == 1 else raw[::-1]
        if kind == "d":
            return int("".join(f"{b >> 4}{b & 15}" for b in raw))
        return int.from_bytes(raw, "big", signed=kind == "i")

    def write(self, address: int, dtype: str, value: int) -> None:
        assert dtype == "|u1", "the Dr. Mario map is bytes"
        self.mem[address] = value & 0xFF

    def read_bytes(self, address: int, size: int) -> bytes:
        self.reads += 1
        return bytes(self.mem[address:address + size])

    def put(self, player: int, board: np.ndarray) -> None:
        """Write ``board`` (uint8 (16, 8)) as ``player``'s playfield."""
        start = PLAYFIELD[player]
        self.mem[start:start + 128] = np.asarray(board, np.uint8).tobytes()

    def set(self, **values: int) -> "FakeNesRam":
        """Write raw bytes by variable name (``viruses_p1=0x04`` is BCD 04)."""
        for name, raw in values.items():
            self.mem[FACTS[name][0]] = raw & 0xFF
        return self


def build_memory(board_p1: np.ndarray | None = None, board_p2: np.ndarray | None = None, block_reads: bool = True,
                 **raw: int) -> FakeNesRam:
    """RAM of a two-player round in progress: every FACTS value, then ``raw`` overrides
    (variable name → raw byte), and the playfields (default: empty bottles)."""
    ram = FakeNesRam(block_reads)
    for addr, _, value, _ in FACTS.values():
        ram.mem[addr] = value
    ram.set(**raw)
    ram.put(1, tiles([]) if board_p1 is None else board_p1)
    ram.put(2, tiles([]) if board_p2 is None else board_p2)
    return ram
