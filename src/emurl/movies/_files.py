"""File helpers shared by the movie formats: atomic writes and zip members."""

from __future__ import annotations

import os
import zipfile

from emurl.errors import MovieError
from emurl.fileio import ZIP_ERRORS
from emurl.fileio import atomic_write as _atomic_write


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`emurl.fileio.atomic_write`).

    Raises:
        MovieError: the folder can't be written.
    """
    try:
        _atomic_write(path, data)
    except OSError as exc:
        raise MovieError(f"{path}: cannot write: {exc.strerror}") from None


def open_zip(path: str | os.PathLike, kind: str) -> zipfile.ZipFile:
    """Open ``path`` as a zip archive, or raise :class:`MovieError` saying it should be a ``kind``."""
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise MovieError(f"{path}: no such {kind} file") from None
    except ZIP_ERRORS as exc:
        raise MovieError(f"{path}: not a valid {kind}: expected a zip archive ({exc})") from None


def zip_member(z: zipfile.ZipFile, path, name: str, required: bool = True) -> bytes | None:
    """The bytes of member ``name``; a missing required member, or a damaged one (bad
    compressed data, a failed CRC, cut short: :data:`emurl.fileio.ZIP_ERRORS`), is a
    :class:`MovieError` naming the file and the member."""
    try:
        return z.read(name)
    except KeyError:
        if required:
            have = ", ".join(z.namelist()) or "nothing"
            raise MovieError(f"{path}: {name}: missing from the archive (it holds {have})") from None
        return None
    except ZIP_ERRORS as exc:
        raise MovieError(f"{path}: {name}: damaged in the archive: cannot be read ({exc})") from None
