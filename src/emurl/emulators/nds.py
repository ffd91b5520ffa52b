"""The Nintendo DS cartridge header: the one place emurl reads it.

Layout (GBATEK, "DS Cartridge Header", https://problemkaputt.de/gbatek.htm; ``docs/facts/nintendo-ds-homebrew.md``): the
first 0x200 bytes of a ``.nds`` file; game title, 12 ASCII bytes at 0x00 (NUL-padded);
game code, 4 ASCII bytes at 0x0C (e.g. ``AMCE``: Mario Kart DS, USA); header CRC-16
(CRC-16/MODBUS over bytes 0x000-0x15D) at 0x15E, which the DS itself checks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

HEADER_SIZE = 0x200
TITLE = (0x00, 12)
GAME_CODE = (0x0C, 4)
HEADER_CRC = 0x15E


@dataclass(frozen=True)
class NdsHeader:
    """What emurl reads from a DS header.

    Attributes:
        title: the game title, NUL padding and spaces stripped (e.g. ``"MARIOKART DS"``).
        game_code: 4 characters (e.g. ``"AMCE"``).
        crc: the header CRC-16 stored at 0x15E.
        crc_computed: the CRC-16 of the header's bytes 0x000-0x15D.
    """

    title: str
    game_code: str
    crc: int
    crc_computed: int

    @property
    def crc_ok(self) -> bool:
        """Whether the stored CRC matches the header's bytes (the DS refuses it otherwise)."""
        return self.crc == self.crc_computed


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF) of ``data``."""
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def read_header(path: str | os.PathLike) -> NdsHeader | None:
    """The header of the ``.nds`` file ``path``, or None if the file is shorter than one.

    Raises:
        OSError: the file cannot be read.
    """
    with open(path, "rb") as f:
        head = f.read(HEADER_SIZE)
    if len(head) < HEADER_SIZE:
        return None
    (t0, tn), (c0, cn) = TITLE, GAME_CODE
    title = head[t0:t0 + tn].split(b"\0", 1)[0].decode("ascii", "replace").strip()
    crc = int.from_bytes(head[HEADER_CRC:HEADER_CRC + 2], "little")
    return NdsHeader(title, head[c0:c0 + cn].decode("ascii", "replace"), crc, crc16_modbus(head[:HEADER_CRC]))
