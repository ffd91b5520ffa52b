"""Writing files so that an interruption never leaves half of one (the one way emurl does it),
and savestate files: their names (``<name>[.<backend>].state``), reading and writing."""

from __future__ import annotations

import gzip
import itertools
import os
import struct
import tempfile
import tokenize
import zipfile
import zlib
from pathlib import Path

from emurl.errors import ConfigError, IntegrationError


_UMASK = os.umask(0)  # read once: setting it is process-wide, so not on every write
os.umask(_UMASK)


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder (created
    if missing), fsync, ``os.replace``. A crash leaves the old file or the new one, never
    half of one; the file gets ordinary permissions (0666 less the umask).

    Raises:
        OSError: the folder can't be created or written.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~_UMASK)  # mkstemp makes 0600
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable (best effort: not every filesystem allows it)
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


# -- reading archives ------------------------------------------------------------------------
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
              struct.error, SyntaxError, tokenize.TokenError)
"""What :mod:`zipfile`, and NumPy's ``.npy`` / ``.npz`` readers on top of it, raise for a
damaged archive: a bad header or CRC (BadZipFile), bad deflate data (zlib.error), a file cut
short (EOFError, struct.error), an offset past the end (OSError, ValueError), a compression
method or encryption flag made up by a flipped bit (NotImplementedError, RuntimeError), a
damaged ``.npy`` header (NumPy parses it as a Python literal: SyntaxError, TokenError). The
readers of ``.emv``, ``.bk2`` and datasets turn these into their own error naming the file."""


# -- savestate files --------------------------------------------------------------------------
BACKENDS = ("retro", "desmume", "melonds")
"""Every emulator backend (:func:`emurl.emulators.open_emulator` opens each): ``"retro"``
(stable-retro's libretro cores), ``"desmume"`` (py-desmume) and ``"melonds"`` (stable-retro's
melonDS core). A savestate loads only on the backend that made it, so its file name may say which."""

STATE_SUFFIX = ".state"
GZIP_MAGIC = b"\x1f\x8b"


def state_file_name(name: str, backend: str | None = None) -> str:
    """A savestate's file name: ``<name>.<backend>.state`` (e.g. ``"Track0.desmume.state"``),
    or stable-retro's plain ``<name>.state`` for the ``"retro"`` backend (so that
    stable-retro's own tools load it too) or None. Only a tag of :data:`BACKENDS` reads back
    as a backend (:func:`parse_state_file_name`); another one (a test's fake emulator) stays
    part of the name.
    """
    return f"{name}{STATE_SUFFIX}" if backend in (None, "retro") else f"{name}.{backend}{STATE_SUFFIX}"


def parse_state_file_name(filename: str) -> tuple[str, str | None]:
    """``(name, backend)`` of a savestate file name, :func:`state_file_name`'s inverse:
    ``"Track0.desmume.state"`` → ``("Track0", "desmume")``; ``"Level1.state"`` →
    ``("Level1", None)``; a tag that is no backend stays in the name (``"a.b.state"`` →
    ``("a.b", None)``). A folder part is ignored.

    Raises:
        ValueError: the name does not end in ``.state``.
    """
    base = os.path.basename(filename)
    if not base.endswith(STATE_SUFFIX) or base == STATE_SUFFIX:
        raise ValueError(f"{filename}: not a savestate file name (expected <name>[.<backend>]{STATE_SUFFIX})")
    stem = base[: -len(STATE_SUFFIX)]
    name, _, tag = stem.rpartition(".")
    if name and tag in BACKENDS:
        return name, tag
    return stem, None


def read_state(path: str | os.PathLike) -> bytes:
    """A savestate file's bytes: gunzipped when the file is gzip (stable-retro's and emurl's
    ``.state`` files, see :func:`write_state`), else as stored. Whether the bytes are a
    savestate of the right emulator is the emulator's to say (``Emulator.load_state``).

    Raises:
        IntegrationError: the file can't be read, or is a damaged gzip file (cut short, a
            failed CRC, bad compressed data); the message names the file.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise IntegrationError(f"{path}: cannot read the savestate: {exc.strerror or exc}") from None
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise IntegrationError(
            f"{path}: damaged savestate: expected a gzip file as stable-retro and emurl write them ({exc})"
        ) from None


def write_state(path: str | os.PathLike, state: bytes) -> Path:
    """Write a savestate as stable-retro's ``.state`` files are: gzip (no timestamp, so the
    same state gives the same file), atomically (:func:`atomic_write`). Returns ``path``."""
    return atomic_write(path, gzip.compress(state, compresslevel=6, mtime=0))


def new_run_folder(runs_dir: str | os.PathLike, name: str) -> Path:
    """Make and return ``<runs_dir>/<name>``, or ``<name>-2``, ``<name>-3``, ... when that one
    exists (two runs of the same game, algorithm and seed started in the same second);
    ``mkdir`` claims each name atomically, so concurrent starts never share a folder.

    Raises:
        ConfigError: ``runs_dir`` is a file, or can't be made or written.
    """
    runs = Path(runs_dir)
    try:
        runs.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"runs_dir {runs}: is a file, not a folder") from None
    except OSError as exc:
        raise ConfigError(f"runs_dir {runs}: cannot make it: {exc.strerror}") from None
    for k in itertools.count(1):
        folder = runs / (name if k == 1 else f"{name}-{k}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
        except OSError as exc:
            raise ConfigError(f"runs_dir {runs}: cannot make a run folder in it: {exc.strerror}") from None
    raise AssertionError("unreachable")
