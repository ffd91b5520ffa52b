"""ROM SHA-1s as stable-retro computes them, cached per file, and the check of a ROM file
against the SHA-1s an integration accepts (its ``rom.sha``).

stable-retro hashes an iNES file (``.nes``) without its 16-byte header and every other ROM
as a whole (``stable_retro.data.groom_rom``: https://github.com/Farama-Foundation/stable-retro,
``stable_retro/data/__init__.py``), so a ROM is known by both SHA-1s where it has such a
header. ``emurl roms import`` (:mod:`emurl.states.roms`) and the check on loading a game
(:meth:`emurl.games.integration.Integration.require_rom`) both use :func:`rom_sha1s`.

Hashing a file is done once per ``(path, size, modification time)``: the SHA-1s are kept in
this process and, where a cache file is given, in a small JSON file (written atomically)
that the next process reads, so a vector env's workers do not each hash a large ROM again.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

from emurl.errors import ConfigError, RomMismatchError
from emurl.fileio import atomic_write

ALLOW_MISMATCH_ENV = "EMURL_ALLOW_ROM_MISMATCH"
"""Set to 1 to run a ROM whose SHA-1 is not in the integration's ``rom.sha`` (a ROM hack,
a translation, a bad dump you want to try): a warning instead of :class:`RomMismatchError`."""

INES_MAGIC = b"NES\x1a"
INES_HEADER = 16  # bytes before the PRG data of an iNES file (stable-retro's groom_rom skips them)
_CACHE_ENTRIES = 256  # files remembered in the cache file; the oldest are dropped

_memo: dict[tuple[str, int, int], tuple[str, ...]] = {}
_warned: set[tuple[str, str]] = set()  # (file, SHA-1) whose allowed mismatch was reported


def rom_sha1s(data: bytes, nes: bool = False, snes: bool = False) -> list[str]:
    """The SHA-1s (40 lowercase hex digits) a ROM's bytes are known by: of the whole file,
    then, for an iNES file (starts ``b"NES\\x1a"``, or ``nes``: named ``.nes``), of the data
    after its 16-byte header; for a SNES dump (``snes``: named ``.sfc``/``.smc``) whose size
    is 512 bytes over a multiple of 1 KiB, of the data after its copier header (No-Intro's
    hashes are of headerless dumps).

    >>> rom_sha1s(b"")
    ['da39a3ee5e6b4b0d3255bfef95601890afd80709']
    """
    out = [hashlib.sha1(data).hexdigest()]
    if nes or data[:4] == INES_MAGIC:
        out.append(hashlib.sha1(data[INES_HEADER:]).hexdigest())
    if snes and len(data) % 1024 == 512:
        out.append(hashlib.sha1(data[512:]).hexdigest())
    return out


def sha1_of_rom(path: str | os.PathLike) -> str:
    """The SHA-1 of the ROM file ``path`` as stable-retro computes it (a ``.nes`` file
    without its 16-byte iNES header), 40 lowercase hex digits. Not cached: movies stamp it.

    Raises:
        OSError: the file can't be read.
    """
    with open(path, "rb") as f:
        if str(path).lower().endswith(".nes"):
            f.read(INES_HEADER)
        return hashlib.sha1(f.read()).hexdigest()


def _hash_file(path: str) -> tuple[str, ...]:
    with open(path, "rb") as f:
        return tuple(rom_sha1s(f.read(), nes=path.lower().endswith(".nes"), snes=path.lower().endswith((".sfc", ".smc"))))


def _read_cache(cache_file: Path) -> dict:
    try:
        raw = json.loads(cache_file.read_text())
    except (OSError, ValueError):  # missing or damaged: it is only a cache
        return {}
    return raw if isinstance(raw, dict) else {}


def file_sha1s(path: str | os.PathLike, cache_file: str | os.PathLike | None = None) -> tuple[str, ...]:
    """:func:`rom_sha1s` of the file ``path``, hashed once per (real path, size in bytes,
    modification time in ns): kept in this process and, with ``cache_file``, in that JSON
    file (read by later processes; a write that fails is ignored: it is only a cache).

    Raises:
        OSError: the file can't be read.
    """
    real = os.path.realpath(path)
    st = os.stat(real)
    key = (real, st.st_size, st.st_mtime_ns)
    if key in _memo:
        return _memo[key]
    cache = _read_cache(Path(cache_file)) if cache_file else {}
    entry = cache.get(real)
    if (isinstance(entry, list) and len(entry) == 3 and entry[:2] == [st.st_size, st.st_mtime_ns]
            and isinstance(entry[2], list) and all(isinstance(s, str) for s in entry[2])):
        shas = tuple(entry[2])
    else:
        shas = _hash_file(real)
        if cache_file:
            cache.pop(real, None)
            cache[real] = [st.st_size, st.st_mtime_ns, list(shas)]
            kept = dict(list(cache.items())[-_CACHE_ENTRIES:])
            try:
                atomic_write(cache_file, json.dumps(kept, indent=0).encode())
            except OSError:
                pass  # a read-only data folder: hash again next time
    _memo[key] = shas
    return shas


def mismatch_allowed() -> bool:
    """Whether ``$EMURL_ALLOW_ROM_MISMATCH`` asks to run ROMs that ``rom.sha`` does not list.

    Raises:
        ConfigError: the variable holds something other than 1/0, true/false, yes/no, on/off.
    """
    value = os.environ.get(ALLOW_MISMATCH_ENV, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"${ALLOW_MISMATCH_ENV}={value!r}: expected 1 (run ROMs whose SHA-1 rom.sha does not list) or 0")


def rom_matches(path: str | os.PathLike, accepted: list[str], cache_file=None) -> tuple[bool, str]:
    """Whether the ROM file ``path`` has one of the ``accepted`` SHA-1s (lowercase hex; an
    empty list accepts every file), and its SHA-1 as stable-retro computes it.

    Raises:
        OSError: the file can't be read.
    """
    shas = file_sha1s(path, cache_file)
    found = shas[-1] if str(path).lower().endswith(".nes") else shas[0]
    return (not accepted or any(s in accepted for s in shas)), found


def check_rom(path: str | os.PathLike, accepted: list[str], game: str, cache_file=None,
              allow_mismatch: bool | None = None) -> bool:
    """Check the ROM file ``path`` of integration ``game`` against its ``accepted`` SHA-1s.

    Args:
        allow_mismatch: run a ROM that does not match (returns False); None: as
            ``$EMURL_ALLOW_ROM_MISMATCH`` says (:func:`mismatch_allowed`).

    Returns:
        True when it matches (or ``accepted`` is empty), False for an allowed mismatch (a
        ``UserWarning`` says so, once per file and process).

    Raises:
        RomMismatchError: the SHA-1 is not accepted and no override is given; the message
            names the file, its SHA-1, the accepted ones, the import command and the override.
        OSError: the file can't be read.
    """
    ok, found = rom_matches(path, accepted, cache_file)
    if ok:
        return True
    if allow_mismatch is None:
        allow_mismatch = mismatch_allowed()
    if allow_mismatch:
        if (str(path), found) not in _warned:
            _warned.add((str(path), found))
            warnings.warn(f"{path}: running a ROM that {game}'s rom.sha does not list (SHA-1 {found}; "
                          f"allowed by {ALLOW_MISMATCH_ENV}); its variables may read the wrong memory",
                          stacklevel=3)
        return False
    raise RomMismatchError(
        f"{path}: this ROM is not the one {game} is made for: its SHA-1 is {found}, and "
        f"rom.sha accepts {', '.join(accepted)}. Its memory addresses would not mean what the "
        f"integration says. Import a matching ROM with:  emurl roms import DIR  (a file or a folder "
        f"of ROMs), or, to run this one anyway (a ROM hack, a translation), set {ALLOW_MISMATCH_ENV}=1"
    )


__all__ = ["ALLOW_MISMATCH_ENV", "check_rom", "file_sha1s", "mismatch_allowed", "rom_matches", "rom_sha1s", "sha1_of_rom"]
