"""Recognise a Mario Kart DS ROM by its game code, and import it.

emurl can't list the SHA-1s of Mario Kart DS dumps it never saw, so instead of
``rom.sha`` the integration accepts a ROM by the game code in its header: ``AMCE``
(USA), ``AMCP`` (Europe), ``AMCJ`` (Japan), as listed in the integration's
``metadata.json`` (``"game_codes"``).

The .nds header: the game title is 12 ASCII bytes at offset 0x00, the game code 4 ASCII
bytes at 0x0C (GBATEK, "DS Cartridge Header"). In RAM the game code is at 0x023FFA8C
(docs/facts/mario-kart-ds.md, "Identity").
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from emurl.emulators import nds
from emurl.errors import EmurlError
from emurl.fileio import atomic_write
from emurl.games.integration import data_dir
from emurl.games.mkds import game
from emurl.emulators.nds import HEADER_SIZE


class RomCheckError(EmurlError, ValueError):
    """The file is not a Mario Kart DS ROM emurl reads (missing, too short, other game code)."""


@dataclass(frozen=True)
class RomInfo:
    """A checked ROM.

    Attributes:
        path: the file.
        game_code: 4 ASCII characters from the header, e.g. ``"AMCE"``.
        region: ``"USA"``, ``"Europe"`` or ``"Japan"``.
        title: the header's game title (e.g. ``"MARIOKART DS"``).
        sha1: SHA-1 of the whole file, lower-case hex (recorded with each start state).
        size: file size in bytes.
    """

    path: str
    game_code: str
    region: str
    title: str
    sha1: str
    size: int


def read_header(path: str | os.PathLike) -> tuple[str, str]:
    """(title, game code) from an .nds file's header (:mod:`emurl.emulators.nds`).

    Raises:
        RomCheckError: the file is missing or shorter than a DS header (0x200 bytes).
    """
    path = Path(path)
    if not path.is_file():
        raise RomCheckError(f"{path}: no such ROM file")
    header = nds.read_header(path)
    if header is None:
        raise RomCheckError(
            f"{path}: {path.stat().st_size} bytes, too short for a Nintendo DS ROM (its header alone is {HEADER_SIZE} bytes)"
        )
    return header.title, header.game_code


def check_rom(path: str | os.PathLike) -> RomInfo:
    """Check that ``path`` is a Mario Kart DS ROM of a release the integration reads.

    Returns:
        :class:`RomInfo` (game code, region, title, SHA-1).

    Raises:
        RomCheckError: the file is missing, too short, or its header's game code
            (offset 0x0C) is not one of ``metadata.json``'s ``game_codes`` (AMCE, AMCP,
            AMCJ); the message says which code and title it found.
    """
    title, code = read_header(path)
    codes = game.game_codes()
    if code not in codes:
        accepted = ", ".join(f"{c} ({r})" for c, r in codes.items())
        raise RomCheckError(
            f"{path}: game code {code!r} (title {title!r}) is not Mario Kart DS: "
            f"{game.GAME} reads the releases with game code {accepted} (ROM header offset 0x0C)"
        )
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return RomInfo(str(path), code, codes[code], title, h.hexdigest(), os.path.getsize(path))


def find_roms(folder: str | os.PathLike) -> list[RomInfo]:
    """Every Mario Kart DS ROM (``*.nds``, any depth) in ``folder``, checked; others are skipped."""
    out = []
    for p in sorted(Path(folder).rglob("*")):
        if p.is_file() and p.suffix.lower() == ".nds":
            try:
                out.append(check_rom(p))
            except RomCheckError:
                continue
    return out


def game_code_in_memory(emulator) -> str:
    """The game code the running game holds at 0x023FFA8C (``"AMCE"``; ``"\\0\\0\\0\\0"`` before boot)."""
    value = game.variable("game_code").read(emulator)
    return int(value).to_bytes(4, "little").decode("ascii", "replace")


def region_offset(emulator) -> int | None:
    """``u32[0x02000B54] - 0x0216F320``: what every USA address moves by on this release.

    None while the game's program is not loaded (the word reads 0).
    """
    var = game.variable("racer_pointer")
    resolved = var.resolve_address(emulator)
    return None if resolved is None else resolved - var.address


def rom_destination() -> Path:
    """Where :func:`import_rom` puts the ROM: ``<data dir>/roms/MarioKartDS-NintendoDs/rom.nds``."""
    return data_dir() / "roms" / game.GAME / "rom.nds"


def import_rom(path: str | os.PathLike) -> RomInfo:
    """Check ``path`` and copy it to :func:`rom_destination`, where ``emurl.make`` finds it.

    ``emurl roms import`` matches ROMs by SHA-1, which this integration can't list; this
    matches by game code instead. The copy is written atomically (a crash leaves the old
    file or none, never half of one).

    Returns:
        The :class:`RomInfo` of the imported copy.

    Raises:
        RomCheckError: see :func:`check_rom`.
    """
    info = check_rom(path)
    dest = rom_destination()
    atomic_write(dest, Path(path).read_bytes())
    return RomInfo(str(dest), info.game_code, info.region, info.title, info.sha1, info.size)
