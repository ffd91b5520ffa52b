"""Nintendo DS facts and helpers both DS backends share: DeSmuME (:mod:`~emurl.emulators.desmume`,
py-desmume) and melonDS (:mod:`~emurl.emulators.melonds`, stable-retro's libretro core).

Both give the same view of the console, so an integration, a movie or a policy works on
either:

- ``buttons``: :data:`DS_BUTTONS`, the twelve DS keys in stable-retro's NintendoDs order
  (``B Y SELECT START UP DOWN LEFT RIGHT A X L R``);
- ``screen()``: uint8 RGB. DeSmuME gives both screens stacked, (384, 256, 3), the top
  screen in rows 0-191 and the bottom (touch) screen in rows 192-383 (:data:`TOP`,
  :data:`BOTTOM`). stable-retro's melonDS build outputs one screen at a time, (192, 256,
  3): :meth:`MelonDSBackend.show` picks which. ``stacked`` (True / False) tells them apart;
- ``read(address, dtype)`` / ``write``: main RAM by absolute DS address
  (``0x02000000``-``0x023FFFFF``, :data:`MAIN_RAM`), little-endian as the console is.
  stable-retro's melonDS integrations write offsets from ``0x02000000`` instead; they are
  moved to absolute addresses when they load (:mod:`emurl.games.memory`), so both forms
  read the same on both backends;
- ``save_state()`` / ``load_state()``: savestates as bytes (DeSmuME's are ~11 MB,
  melonDS's ~6.5 MB; neither backend reads the other's);
- ``frame_rate``: 59.8261 frames/s (the DS's 33.514 MHz / 560190 cycles per frame).

Neither needs BIOS or firmware files (DeSmuME emulates the BIOS calls; melonDS uses its
built-in FreeBIOS), and neither needs a screen: SDL is told ``SDL_VIDEODRIVER=dummy``
(and a dummy audio driver) before DeSmuME starts, unless the caller set them.

Facts: ``docs/facts/nintendo-ds-homebrew.md`` (what both emulators do, checked with test
ROMs), GBATEK for the hardware (https://problemkaputt.de/gbatek.htm).
"""

from __future__ import annotations

import ctypes
import functools
import os

from emurl.emulators.nds import HEADER_SIZE, read_header
from emurl.errors import EmulatorError

SYSTEM = "NintendoDs"
DS_BUTTONS = ("B", "Y", "SELECT", "START", "UP", "DOWN", "LEFT", "RIGHT", "A", "X", "L", "R")
"""The DS keys, in stable-retro's NintendoDs bit order (both backends use it)."""
MAIN_RAM = (0x02000000, 0x400000)
"""Main RAM: start address and size in bytes (4 MiB). :data:`emurl.games.memory.DS_MAIN_RAM` is
the same fact on the games side (the two layers may not import each other)."""
_RAM_START, _RAM_END = MAIN_RAM[0], MAIN_RAM[0] + MAIN_RAM[1]
SCREEN_W, SCREEN_H = 256, 192
TOP = (slice(0, SCREEN_H), slice(0, SCREEN_W))
"""Rows and columns of the top screen in :meth:`screen`'s (384, 256, 3) image."""
BOTTOM = (slice(SCREEN_H, 2 * SCREEN_H), slice(0, SCREEN_W))
"""Rows and columns of the bottom (touch) screen in :meth:`screen`'s image."""
FRAME_RATE = 59.8261
DEFAULT_ACTIONS = [
    [[], ["UP"], ["DOWN"]],
    [[], ["LEFT"], ["RIGHT"]],
    [[], ["A"], ["B"], ["X"], ["Y"], ["SELECT"], ["A", "B"], ["X", "Y"]],
    [[], ["L"], ["R"], ["L", "R"]],
]
"""Button groups for the ``discrete`` action set (stable-retro's melonDS core description)."""


@functools.lru_cache(maxsize=64)
def _parse_dtype(dtype: str) -> tuple[str, str, int]:
    """``'<u4'`` → (endianness, kind, size)."""
    size = int(dtype[-1])
    kind = dtype[-2]
    end = dtype[:-2] or "<"
    if ">" in end:
        return ">", kind, size
    return "<", kind, size


def _decode(raw: bytes, dtype: str) -> int:
    """A stable-retro typed value from raw bytes (ints, BCD ``d``, nibble BCD ``n``)."""
    end, kind, size = _parse_dtype(dtype)
    order = "big" if end == ">" else "little"
    if kind in "ui":
        return int.from_bytes(raw, order, signed=kind == "i")
    data = raw if order == "big" else raw[::-1]
    if kind == "d":  # two BCD digits per byte
        value = 0
        for b in data:
            value = value * 100 + (b >> 4) * 10 + (b & 0xF)
        return value
    value = 0  # "n": one BCD digit per byte
    for b in data:
        value = value * 10 + (b & 0xF)
    return value


def _encode(value: int, dtype: str) -> bytes:
    end, kind, size = _parse_dtype(dtype)
    order = "big" if end == ">" else "little"
    if kind in "ui":
        return int(value & ((1 << (8 * size)) - 1)).to_bytes(size, order)
    digits = []
    v = int(value)
    if kind == "d":
        for _ in range(size):
            v, lo = divmod(v, 10)
            v, hi = divmod(v, 10)
            digits.append(hi << 4 | lo)
    else:
        for _ in range(size):
            v, d = divmod(v, 10)
            digits.append(d)
    data = bytes(digits)  # least significant first
    return data if order == "little" else data[::-1]


def _check_main_ram(address: int, size: int, backend: str) -> None:
    start, length = MAIN_RAM
    if not (start <= address and address + size <= start + length):
        raise EmulatorError(
            f"{backend}: address {address:#010x} (+{size}) is outside DS main RAM "
            f"{start:#010x}-{start + length - 1:#010x}; the backends take absolute addresses (an integration "
            f"written as offsets from main RAM, stable-retro's melonDS form, is moved there when it loads)"
        )


def check_nds_header(path: str) -> None:
    """Check that ``path`` starts with a Nintendo DS cartridge header whose CRC-16 is right.

    The header CRC (offset 0x15E, CRC-16/MODBUS over bytes 0x000-0x15D) is checked by
    the DS itself; both emulators would otherwise "run" any file. Source:
    GBATEK, "DS Cartridge Header" (https://problemkaputt.de/gbatek.htm); ``docs/facts/nintendo-ds-homebrew.md``.

    Raises:
        EmulatorError: the file is too short or its header CRC is wrong.
    """
    header = read_header(path)
    if header is None:
        size = os.path.getsize(path)
        raise EmulatorError(f"{path}: not a Nintendo DS ROM ({size} bytes; a DS ROM starts with a {HEADER_SIZE}-byte header)")
    if not header.crc_ok:
        raise EmulatorError(
            f"{path}: not a Nintendo DS ROM: header CRC-16 at 0x15E is {header.crc:#06x}, "
            f"the header's bytes give {header.crc_computed:#06x}"
        )


class _quiet:
    """Send the C library's stdout to /dev/null for a while: libdesmume prints a banner on
    open and a paragraph on every savestate load, which would flood a training log.
    ``EMURL_DEBUG_DESMUME=1`` keeps it."""

    _libc = None

    def __enter__(self):
        self.saved = None
        if os.environ.get("EMURL_DEBUG_DESMUME"):
            return self
        try:
            if _quiet._libc is None:
                _quiet._libc = ctypes.CDLL(None)
            _quiet._libc.fflush(None)
            self.saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.close(devnull)
        except OSError:
            self.saved = None
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            _quiet._libc.fflush(None)
            os.dup2(self.saved, 1)
            os.close(self.saved)
        return False
