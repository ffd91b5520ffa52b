"""The shared-memory frame blocks behind :mod:`emurl.vector.frames`: layout, publisher, reader.

A worker (an ``emurl train`` env worker, a NEAT evaluation worker, any process with an
env; :class:`emurl.vector.frames.PublishFrames` wraps an env to do it) owns one named shared-memory
block, ``emurl-frames-<job>-<worker>``; a viewer in another process lists them
(:func:`list_publishers`) and reads them (:class:`FrameReader`). Nothing goes through a
pipe, and a worker nobody watches pays one clock read per step: it publishes only while
a reader has asked in the last ``linger`` seconds (the reader writes a deadline into the
block at every read).

Block layout (little-endian; ``HEADER`` = 64 bytes, then the frame, then the overlay):

======  ======  ===========================================================================
offset  type    field
======  ======  ===========================================================================
0       4s      magic ``b"EMFR"``
4       u16     layout version (1)
6       u16     header size (64)
8       u64     sequence number: odd while the publisher writes, even when stable; +2
                per frame (frame k of the block has sequence 2k)
16      f64     watched until: ``time.time()`` deadline written by readers
24      u32     the publisher's process id (a block whose process is gone is stale)
28      3×u32   the frame's height, width, channels
40      u32     frame capacity, bytes
44      u32     overlay capacity, bytes
48      u32     overlay length, bytes (UTF-8 JSON object)
52      u32     flags: 1 = closed by its publisher
56      f64     ``time.time()`` of the last publish
======  ======  ===========================================================================

Torn frames: the sequence number is a seqlock. The publisher makes it odd, writes, makes
it even; a reader copies the frame and overlay between two reads of it and retries until
both reads are the same even number, so it never returns a frame mixed from two publishes.

Lifetime: the publisher unlinks its block on :meth:`FramePublisher.close`, when garbage
collected and at interpreter exit (``weakref.finalize``). A process killed outright leaves
its block behind; :func:`list_publishers` and every new publisher unlink blocks whose
process is gone. The blocks are kept out of ``multiprocessing``'s resource tracker: before
Python 3.13 a process that merely *attached* to a block had the tracker unlink it when it
exited (CPython issue 82300), which would end a worker's block when a viewer closes.

Listing needs ``/dev/shm`` (Linux), where POSIX shared memory blocks are files.
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
import time
import weakref
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory

import numpy as np

PREFIX = "emurl-frames-"
SHM_DIR = "/dev/shm"
MAGIC = b"EMFR"
VERSION = 1
HEADER = 64
_HEAD = struct.Struct("<4sHHQdI3IIIIId")
_SEQ, _WATCH, _PID, _SHAPE, _OVERLAY_LEN, _FLAGS, _STAMP = 8, 16, 24, 28, 48, 52, 56
CLOSED = 1
OVERLAY_CAPACITY = 64 * 1024
"""Default room for the overlay JSON, bytes."""
_NAME_PART = re.compile(r"[^A-Za-z0-9_.]+")


def frame_name(job: str | int, worker: str | int) -> str:
    """The block name of ``worker`` in ``job``: ``emurl-frames-<job>-<worker>``; characters
    other than letters, digits, ``_`` and ``.`` become ``_`` (a ``-`` separates the parts).

    >>> frame_name("neat run/1", 3)
    'emurl-frames-neat_run_1-3'
    """
    return f"{PREFIX}{_NAME_PART.sub('_', str(job))}-{_NAME_PART.sub('_', str(worker))}"


def _open(name: str, create: bool = False, size: int = 0) -> SharedMemory:
    """A block kept out of the resource tracker (see the module doc)."""
    if sys.version_info >= (3, 13):
        return SharedMemory(name, create=create, size=size, track=False)
    shm = SharedMemory(name, create=create, size=size)
    resource_tracker.unregister(shm._name, "shared_memory")  # noqa: SLF001 - the name with its leading slash
    return shm


def _unlink(shm: SharedMemory) -> None:
    if sys.version_info < (3, 13):
        resource_tracker.register(shm._name, "shared_memory")  # unlink() unregisters it again  # noqa: SLF001
    try:
        shm.unlink()
    except FileNotFoundError:
        if sys.version_info < (3, 13):
            resource_tracker.unregister(shm._name, "shared_memory")  # noqa: SLF001


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


@dataclass(frozen=True)
class PublisherInfo:
    """One block found by :func:`list_publishers`: its ``name``, the ``job`` and ``worker``
    parts of it, the publisher's ``pid``, the last frame's ``shape`` (H, W, C; zeros before
    the first), ``seq`` (frames published × 2) and ``published_at`` (``time.time()``)."""

    name: str
    job: str
    worker: str
    pid: int
    shape: tuple[int, int, int]
    seq: int
    published_at: float


def _info(name: str, buf) -> PublisherInfo | None:
    if len(buf) < HEADER:
        return None
    magic, version, _, seq, _, pid, h, w, c, _, _, _, flags, stamp = _HEAD.unpack_from(buf, 0)
    if magic != MAGIC or version != VERSION or flags & CLOSED:
        return None
    job, _, worker = name[len(PREFIX):].rpartition("-")
    return PublisherInfo(name, job, worker, pid, (h, w, c), seq, stamp)


def list_publishers(job: str | None = None, clean: bool = True) -> list[PublisherInfo]:
    """The frame blocks on this machine (``job``: only that job's), sorted by name.

    With ``clean``, blocks whose publisher process is gone (killed before it could unlink
    them) are unlinked and left out. Empty where ``/dev/shm`` does not exist.
    """
    try:
        names = sorted(n for n in os.listdir(SHM_DIR) if n.startswith(PREFIX))
    except OSError:
        return []
    want = None if job is None else frame_name(job, "")
    out = []
    for name in names:
        if want is not None and not name.startswith(want):
            continue
        try:
            shm = _open(name)
        except (FileNotFoundError, ValueError, OSError):
            continue  # unlinked meanwhile, or empty
        try:
            info = _info(name, shm.buf)
            pid = info.pid if info else struct.unpack_from("<I", shm.buf, _PID)[0] if len(shm.buf) >= HEADER else 0
            if clean and not _alive(pid):
                _unlink(shm)
            elif info is not None:
                out.append(info)
        finally:
            shm.close()
    return out


class FramePublisher:
    """One worker's frame block: :meth:`publish` writes a screen and an overlay into it.

    Args:
        name: the block's name (:func:`frame_name`).
        shape: the largest frame to publish, (H, W, C) uint8 (a DS screen pair: (384, 256, 3)).
        overlay_capacity: room for the overlay's JSON, bytes.

    Raises:
        FileExistsError: a live process publishes under ``name`` already (a stale block of a
            dead process is replaced).

    Typical use, once per step (the screen is only taken while someone watches)::

        pub = FramePublisher(frame_name(job, worker_index), env.render().shape)
        ...
        if pub.watched:
            pub.publish(env.render(), {"genome": key, "fitness": total, "buttons": pressed})
    """

    def __init__(self, name: str, shape: tuple[int, ...], overlay_capacity: int = OVERLAY_CAPACITY):
        shape = tuple(int(s) for s in shape) + (1,) * (3 - len(shape))
        self.name = name
        self.shape = shape
        self.frame_capacity = int(np.prod(shape))
        self.overlay_capacity = int(overlay_capacity)
        size = HEADER + self.frame_capacity + self.overlay_capacity
        try:
            self._shm = _open(name, create=True, size=size)
        except FileExistsError:
            list_publishers(clean=True)  # a dead worker's block under this name goes
            try:
                self._shm = _open(name, create=True, size=size)
            except FileExistsError:
                raise FileExistsError(f"frame block {name} is in use by a live process (give each worker "
                                      f"its own name: frame_name(job, worker))") from None
        buf = self._shm.buf
        _HEAD.pack_into(buf, 0, MAGIC, VERSION, HEADER, 0, 0.0, os.getpid(), 0, 0, 0,
                        self.frame_capacity, self.overlay_capacity, 0, 0, 0.0)
        # numpy views of the block; the finalizer empties this list before it closes the block
        self._views = [np.ndarray((), "<u8", buf, _SEQ), np.ndarray((), "<f8", buf, _WATCH),
                       np.ndarray((self.frame_capacity,), np.uint8, buf, HEADER)]
        self._finalizer = weakref.finalize(self, _release, self._shm, self._views, os.getpid())

    @property
    def watched(self) -> bool:
        """Whether a reader has read (or :meth:`FrameReader.watch`-ed) within its linger time."""
        return bool(self._views) and float(self._views[1]) > time.time()

    @property
    def seq(self) -> int:
        """The sequence number: 2 × frames published (0 once closed)."""
        return int(self._views[0]) if self._views else 0

    def publish(self, frame: np.ndarray, overlay: dict | None = None) -> int:
        """Write ``frame`` (uint8 (H, W, C) or (H, W), within the block's shape) and
        ``overlay`` (a JSON-able dict; numpy arrays and numbers become lists and numbers).

        Returns the new sequence number. Costs one copy of the frame (a DS screen pair,
        384×256×3: ~9 µs) plus the JSON encoding of the overlay (~20-40 µs for MiniKart's).

        Raises:
            ValueError: the frame is larger than the block or not uint8, or the overlay's
                JSON exceeds ``overlay_capacity``; RuntimeError: after :meth:`close`.
        """
        if not self._finalizer.alive:
            raise RuntimeError(f"frame block {self.name} is closed")
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim not in (2, 3) or frame.size > self.frame_capacity:
            raise ValueError(f"frame block {self.name}: expected uint8 (H, W[, C]) of at most "
                             f"{self.frame_capacity} bytes, got {frame.dtype} {frame.shape}")
        data = b"" if not overlay else json.dumps(overlay, default=_jsonable, separators=(",", ":")).encode()
        if len(data) > self.overlay_capacity:
            raise ValueError(f"frame block {self.name}: overlay of {len(data)} bytes exceeds its "
                             f"{self.overlay_capacity} bytes (FramePublisher's overlay_capacity)")
        h, w = frame.shape[:2]
        c = frame.shape[2] if frame.ndim == 3 else 1
        seq_view, _, frame_view = self._views
        seq = int(seq_view) + 1
        seq_view[...] = seq  # odd: writing
        np.copyto(frame_view[: frame.size].reshape(frame.shape), frame)
        buf = self._shm.buf
        start = HEADER + self.frame_capacity
        buf[start: start + len(data)] = data
        struct.pack_into("<3I", buf, _SHAPE, h, w, c)
        struct.pack_into("<I", buf, _OVERLAY_LEN, len(data))
        struct.pack_into("<d", buf, _STAMP, time.time())
        seq_view[...] = seq + 1  # even: stable
        return seq + 1

    def close(self) -> None:
        """Mark the block closed and unlink it (idempotent)."""
        self._finalizer()

    def __enter__(self) -> "FramePublisher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _release(shm: SharedMemory, views: list, owner: int) -> None:
    if os.getpid() == owner:  # not in a forked child: the block is its parent's
        try:
            struct.pack_into("<I", shm.buf, _FLAGS, CLOSED)
        except (TypeError, ValueError):  # pragma: no cover - already closed
            pass
        _unlink(shm)
    views.clear()  # the numpy views hold the buffer: drop them before closing it
    try:
        shm.close()
    except BufferError:  # pragma: no cover - a caller still holds a view; the OS frees it at exit
        pass


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON-able")


class FrameReader:
    """A viewer's handle on one publisher's block (``name`` from :func:`list_publishers`).

    Args:
        name: the block's name.
        linger: seconds the publisher keeps publishing after each :meth:`read` / :meth:`watch`.

    Raises:
        FileNotFoundError: no such block.
    """

    def __init__(self, name: str, linger: float = 2.0):
        self.name = name
        self.linger = float(linger)
        self._shm = _open(name)
        if bytes(self._shm.buf[:4]) != MAGIC or len(self._shm.buf) < HEADER:
            self._shm.close()
            raise FileNotFoundError(f"{name} is not an emurl frame block")
        self._seq = np.ndarray((), "<u8", self._shm.buf, _SEQ)
        self._watch = np.ndarray((), "<f8", self._shm.buf, _WATCH)

    def watch(self) -> None:
        """Ask the publisher for frames for the next ``linger`` seconds."""
        self._watch[...] = time.time() + self.linger

    @property
    def closed(self) -> bool:
        """Whether the publisher has closed its block."""
        return bool(struct.unpack_from("<I", self._shm.buf, _FLAGS)[0] & CLOSED)

    def read(self, retries: int = 1000) -> tuple[np.ndarray | None, dict, int]:
        """``(frame, overlay, seq)``: a copy of the last frame, uint8 (H, W, C), the overlay
        dict and its sequence number (2 × frames published); ``(None, {}, 0)`` before the
        first. Also :meth:`watch`-es.

        Raises:
            TimeoutError: no consistent frame in ``retries`` tries (a publisher stuck mid-write).
        """
        self.watch()
        buf = self._shm.buf
        for _ in range(retries):
            seq = int(self._seq)
            if seq & 1:
                time.sleep(0)
                continue
            if seq == 0:
                return None, {}, 0
            h, w, c = struct.unpack_from("<3I", buf, _SHAPE)
            frame_capacity, _, n = struct.unpack_from("<3I", buf, 40)
            size = h * w * c
            if size > frame_capacity:
                continue
            frame = np.frombuffer(buf, np.uint8, size, HEADER).reshape(h, w, c).copy()
            data = bytes(buf[HEADER + frame_capacity: HEADER + frame_capacity + n])
            if int(self._seq) == seq:
                return frame, (json.loads(data) if data else {}), seq
        raise TimeoutError(f"{self.name}: no consistent frame in {retries} tries")

    def close(self) -> None:
        """Detach (the publisher's block stays)."""
        self._seq = self._watch = None
        self._shm.close()

    def __enter__(self) -> "FrameReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["FramePublisher", "FrameReader", "PublisherInfo", "frame_name", "list_publishers"]
