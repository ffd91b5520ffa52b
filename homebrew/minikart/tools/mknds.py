#!/usr/bin/env python3
"""Write a MiniKart .nds image from the raw ARM9 and ARM7 binaries (stdlib only).

Layout: 0x4000-byte header area, ARM9 at ROM offset 0x8000 loaded to 0x02000000,
ARM7 at ROM offset 0xC000 loaded to 0x037F8000, padded with 0xFF to the device
capacity. The header CRC-16 (CRC-16/MODBUS over 0x000-0x15D) is written at 0x15E.
Usage: mknds.py arm9.bin arm7.bin out.nds
"""
import struct
import sys

ARM9_ROM, ARM9_RAM = 0x8000, 0x02000000
ARM7_ROM, ARM7_RAM = 0xC000, 0x037F8000
TITLE, GAMECODE, MAKER = b"MINIKART", b"EMKT", b"00"


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def main() -> None:
    arm9 = open(sys.argv[1], "rb").read()
    arm7 = open(sys.argv[2], "rb").read()
    if len(arm9) > ARM7_ROM - ARM9_ROM:
        sys.exit(f"ARM9 binary is {len(arm9)} bytes; at most {ARM7_ROM - ARM9_ROM} fit before the ARM7")
    arm9 += b"\0" * (-len(arm9) % 4)
    arm7 += b"\0" * (-len(arm7) % 4)
    used = ARM7_ROM + len(arm7)
    cap = 0
    while (0x20000 << cap) < used:
        cap += 1
    size = 0x20000 << cap

    h = bytearray(0x200)
    h[0x000:0x00C] = TITLE.ljust(12, b"\0")
    h[0x00C:0x010] = GAMECODE
    h[0x010:0x012] = MAKER
    h[0x014] = cap
    struct.pack_into("<4I", h, 0x020, ARM9_ROM, ARM9_RAM, ARM9_RAM, len(arm9))
    struct.pack_into("<4I", h, 0x030, ARM7_ROM, ARM7_RAM, ARM7_RAM, len(arm7))
    struct.pack_into("<I", h, 0x060, 0x00586000)   # ROMCTRL settings, normal commands
    struct.pack_into("<I", h, 0x064, 0x001808F8)   # ROMCTRL settings, KEY1 commands
    struct.pack_into("<H", h, 0x06E, 0x0D7E)       # secure area delay
    struct.pack_into("<I", h, 0x080, used)
    struct.pack_into("<I", h, 0x084, 0x4000)
    # Nintendo logo left zero (both emulators boot directly without checking it)
    struct.pack_into("<H", h, 0x15C, 0xCF56)
    struct.pack_into("<H", h, 0x15E, crc16(bytes(h[:0x15E])))

    rom = bytearray(b"\xFF" * size)
    rom[0:0x4000] = b"\0" * 0x4000
    rom[0:0x200] = h
    rom[ARM9_ROM:ARM9_ROM + len(arm9)] = arm9
    rom[ARM7_ROM:ARM7_ROM + len(arm7)] = arm7
    with open(sys.argv[3], "wb") as f:
        f.write(rom)
    print(f"{sys.argv[3]}: ARM9 {len(arm9)} bytes, ARM7 {len(arm7)} bytes, {size} bytes total")


if __name__ == "__main__":
    main()
