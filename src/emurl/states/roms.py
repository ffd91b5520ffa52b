"""ROM import: recognise ROM files by SHA-1 and copy them into the user's data folder.

Never into site-packages (stable-retro's own importer writes there): a ROM a user
imported survives reinstalls and upgrades.
"""

from __future__ import annotations

import json
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from emurl.emulators.nds import read_header
from emurl.errors import EmurlError
from emurl.fileio import ZIP_ERRORS, atomic_write
from emurl.games.integration import data_dir, integration_folders, load_integration_folder, rom_extensions
from emurl.games.romsha import rom_sha1s

_MAX_ROM = 64 << 20


def _hash_candidates(path: Path) -> list[tuple[str, bytes]]:
    """(sha1, bytes to store) for a file: the file itself (and a headerless iNES body:
    :func:`~emurl.games.romsha.rom_sha1s`, the hashes a loaded game is checked by), or zip members."""
    data = path.read_bytes()
    out = [(sha, data) for sha in rom_sha1s(data, snes=path.suffix.lower() in (".sfc", ".smc"))]
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    if info.file_size <= _MAX_ROM and not info.is_dir():
                        member = z.read(info)
                        out += [(sha, member) for sha in rom_sha1s(member)]
        except ZIP_ERRORS as exc:  # a damaged archive matches nothing; the import goes on with the other files
            warnings.warn(f"{path}: a damaged zip archive, skipped ({type(exc).__name__}: {exc})", stacklevel=2)
    return out


def known_hashes(game_path=None) -> dict[str, str]:
    """SHA-1 → integration name, over every integration's ``rom.sha``."""
    out: dict[str, str] = {}
    for name, (folder, _source) in integration_folders(game_path).items():
        sha_file = folder / "rom.sha"
        if sha_file.is_file():
            for sha in sha_file.read_text().split():
                out.setdefault(sha.strip().lower(), name)
    return out


def known_game_codes(game_path=None) -> dict[str, str]:
    """Nintendo DS game code (4 ASCII characters) → integration name, from the
    ``"game_codes"`` list of integrations' ``metadata.json`` (for games whose ROM SHA-1s
    can't be listed, e.g. Mario Kart DS: AMCE, AMCP, AMCJ)."""
    out: dict[str, str] = {}
    for name, (folder, _source) in integration_folders(game_path).items():
        meta = folder / "metadata.json"
        if not name.endswith("-NintendoDs") or not meta.is_file():
            continue
        try:
            codes = json.loads(meta.read_text()).get("game_codes", [])
        except (OSError, ValueError):
            continue
        for code in codes if isinstance(codes, (list, dict)) else []:
            out.setdefault(str(code), name)
    return out


def _nds_game_code(path: Path) -> str | None:
    """The game code at offset 0x0C of a ``.nds`` header, or None."""
    if path.suffix.lower() != ".nds":
        return None
    header = read_header(path)
    return header.game_code if header else None


@dataclass
class ImportResult:
    imported: dict[str, str]  # game → destination
    unmatched: list[str]  # files that matched no integration


def import_roms(paths, game_path=None, progress=None) -> ImportResult:
    """Find ROMs among ``paths`` (files or folders, searched recursively) and import them.

    A file matches an integration when its SHA-1 (for ``.nes``, of the data after the
    16-byte iNES header, as stable-retro hashes it) is in that integration's ``rom.sha``,
    or, for a ``.nds``, when its header's game code is in an integration's
    ``metadata.json`` ``"game_codes"`` (:func:`known_game_codes`).
    Matches are copied atomically to ``<data dir>/roms/<Game>-<System>/rom.<ext>``.

    Raises:
        EmurlError: a path does not exist.
    """
    files: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise EmurlError(f"{p}: no such file or folder to import ROMs from")
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file())
        else:
            files.append(p)
    hashes = known_hashes(game_path)
    codes = known_game_codes(game_path)
    folders = integration_folders(game_path)
    imported: dict[str, str] = {}
    unmatched: list[str] = []
    for f in files:
        if f.stat().st_size > _MAX_ROM:
            unmatched.append(str(f))
            continue
        match = None
        for sha, payload in _hash_candidates(f):
            if sha in hashes:
                match = (hashes[sha], payload)
                break
        if match is None and codes:
            code = _nds_game_code(f)
            if code in codes:
                match = (codes[code], f.read_bytes())
        if match is None:
            unmatched.append(str(f))
            continue
        game, payload = match
        integ = load_integration_folder(folders[game][0], game, folders[game][1])
        exts = rom_extensions(integ.system)
        ext = exts[0] if exts else f.suffix
        dest = data_dir() / "roms" / game / f"rom{ext}"
        atomic_write(dest, payload)
        imported[game] = str(dest)
        if progress:
            progress(game, str(dest))
    return ImportResult(imported, unmatched)


def ale_py_rom_dir() -> Path:
    """The folder of Atari 2600 ROMs that ale-py bundles.

    Raises:
        EmurlError: ale-py is not installed or has no ROM folder.
    """
    try:
        import ale_py  # lazy: ~0.1 s to import (its emulator), wanted only for its ROM folder
    except ImportError:
        raise EmurlError("ale-py is not installed: pip install ale-py") from None
    roms = Path(ale_py.__file__).parent / "roms"
    if not roms.is_dir():
        raise EmurlError(f"{roms}: ale-py has no bundled ROM folder in this version")
    return roms
