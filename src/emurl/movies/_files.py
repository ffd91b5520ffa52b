"""File helpers shared by the movie formats: atomic writes and zip members."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from emurl.movies import MovieError


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, fsync, rename.

    A crash leaves either the old file or the new one, never half of one.

    Raises:
        MovieError: the folder doesn't exist or can't be written.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise MovieError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def open_zip(path: str | os.PathLike, kind: str) -> zipfile.ZipFile:
    """Open ``path`` as a zip archive, or raise :class:`MovieError` saying it should be a ``kind``."""
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise MovieError(f"{path}: no such {kind} file") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise MovieError(f"{path}: not a valid {kind}: expected a zip archive ({exc})") from None


def zip_member(z: zipfile.ZipFile, path, name: str, required: bool = True) -> bytes | None:
    """The bytes of member ``name``; a missing required member is a :class:`MovieError`."""
    try:
        return z.read(name)
    except KeyError:
        if required:
            have = ", ".join(z.namelist()) or "nothing"
            raise MovieError(f"{path}: {name}: missing from the archive (it holds {have})") from None
        return None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise MovieError(f"{path}: {name}: cannot be read from the archive ({exc})") from None
