"""Private scratch folders of emulator processes, and the cleaning of those a dead process left.

libdesmume writes files: a savestate only to a file, and the cartridge's backup memory
(the game's own save) to ``<config dir>/desmume/<ROM name>.dsv``, the config dir being
glib's ``g_get_user_config_dir()`` (``$XDG_CONFIG_HOME``, else ``~/.config``; DeSmuME's
``PathInfo::LoadModulePath``, https://github.com/TASEmulators/desmume,
``desmume/src/path.h``). Left there, one ``~/.config/desmume/rom.dsv`` is shared by every
DS game named ``rom.nds`` in every run, and loaded again at the next power-on. emurl gives
each process one folder instead, ``<shm>/emurl-desmume-<pid>-<random>`` (``/dev/shm``
where there is one: savestates are ~11 MB and written at every reset), which holds the
savestate files and, as ``config/``, glib's user config dir.

The folder is emptied when an env opens a game and removed when it closes, when the
emulator object is garbage-collected or the interpreter exits (``weakref.finalize``). A
process killed with SIGKILL can't clean up: the next process that opens DeSmuME removes
the folders of processes that are gone (its pid no longer runs, and nobody holds the
folder's ``lock`` file: a lock dies with its process, so this is right even where pids
are reused or come from another pid namespace).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import re
import shutil
import stat
import tempfile
import warnings

PREFIX = "emurl-desmume-"
_NAME = re.compile(re.escape(PREFIX) + r"(\d+)-\w+")
_LOCK = "lock"

_mine: dict[str, object] = {}  # "path", "pid", "lock" (the open lock file) of this process's folder


def scratch_root() -> str:
    """Where scratch folders go: ``/dev/shm`` (memory) where it exists, else the temp dir."""
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _locked(folder: str) -> bool:
    """Whether a live process holds ``folder``'s lock file (False: no lock file)."""
    try:
        fd = os.open(os.path.join(folder, _LOCK), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def remove_stale(root: str | None = None) -> list[str]:
    """Remove the scratch folders under ``root`` (default :func:`scratch_root`) whose process
    is gone; returns their paths. Folders of live processes and other files are left."""
    root = root or scratch_root()
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        m = _NAME.fullmatch(entry.name)
        if not m or int(m[1]) == os.getpid() or _alive(int(m[1])):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        if not _locked(entry.path):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


def process_folder() -> str:
    """This process's scratch folder, made (mode 0700, with its lock held) if it is not there.

    The first call in a process removes stale folders (:func:`remove_stale`) and picks the
    name; later calls, after :func:`empty` removed it, make it again under the same name
    (glib remembers the config dir for the life of the process).

    Raises:
        OSError: the folder can't be made, or the name is taken by someone else's file.
    """
    if _mine.get("pid") != os.getpid():  # first call, or a forked child: a folder of its own
        remove_stale()
        _mine.clear()
        _mine.update(path=tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=scratch_root()), pid=os.getpid())
    path = str(_mine["path"])
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise OSError(f"{path}: not this user's private folder; emurl will not write there")
    if _mine.get("lock") is None:
        fd = os.open(os.path.join(path, _LOCK), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        _mine["lock"] = fd
    return path


def empty(path: str) -> None:
    """Remove this process's scratch folder ``path`` and everything in it (also the
    ``weakref.finalize`` callback of an emulator: takes no object, raises nothing)."""
    fd = _mine.pop("lock", None) if _mine.get("path") == path else None
    shutil.rmtree(path, ignore_errors=True)
    if fd is not None:
        os.close(fd)


def private_config_dir(path: str) -> str | None:
    """Make glib's user config dir ``path`` for the rest of this process; call before
    libdesmume first asks for it. Returns the dir glib now answers, or None where glib is not
    found (a libdesmume built without it). ``$XDG_CONFIG_HOME`` is set only for glib's first
    call and then restored, so nothing else in the process (or its children) sees it.

    Warns (``RuntimeWarning``) when glib had already been asked by something else in this
    process: DeSmuME's cartridge saves then go to that folder.
    """
    try:
        glib = ctypes.CDLL("libglib-2.0.so.0")  # the one libdesmume links: the loader shares it
    except OSError:
        return None
    ask = glib.g_get_user_config_dir
    ask.restype = ctypes.c_char_p
    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = path
    try:
        got = os.fsdecode(ask())
    finally:
        if old is None:
            del os.environ["XDG_CONFIG_HOME"]
        else:
            os.environ["XDG_CONFIG_HOME"] = old
    if os.path.realpath(got) != os.path.realpath(path):
        warnings.warn(f"glib's config folder was fixed before emurl opened DeSmuME: its cartridge saves "
                      f"go to {got}/desmume", RuntimeWarning, stacklevel=3)
    return got


__all__ = ["PREFIX", "empty", "private_config_dir", "process_folder", "remove_stale", "scratch_root"]
