"""Writing files so that an interruption never leaves half of one: the one way emurl does it."""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path


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


def write_state(path: str | os.PathLike, state: bytes) -> Path:
    """Write a savestate as stable-retro's ``.state`` files are: gzip (no timestamp), atomically."""
    return atomic_write(path, gzip.compress(state, compresslevel=6, mtime=0))
