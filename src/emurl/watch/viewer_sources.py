"""The viewer's model of what it watches: which frame blocks to show, their last frames, and
whether each worker is live, paused, ended or dead (pure Python; no window).

A :class:`Sources` lists the blocks (:func:`emurl.vector.frames.list_publishers`) every
``rescan`` seconds, attaches a :class:`~emurl.vector.frames.FrameReader` to each new one and
reads every attached one at each :meth:`Sources.poll` (a read also keeps the worker
publishing: :mod:`emurl.vector.frameblock`). Attaching and detaching are reads of shared
memory only: a job never notices the viewer come or go beyond the copies it then makes.
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from dataclasses import dataclass, field

import numpy as np

from emurl.vector.frames import FrameReader, list_publishers

LIVE, PAUSED, ENDED, DEAD = "live", "paused", "ended", "dead"
"""A tile's state: publishing; alive but no new frame for ``pause_s`` (a learner's update, a
NEAT generation's end); its block closed by its worker (the job ended); its process gone
without closing its block (killed, crashed)."""
_PATTERN_PART = re.compile(r"[^A-Za-z0-9_.*?\[\]]+")  # frame_name's rule, wildcards kept


def job_pattern(job: str | None) -> str | None:
    """``job`` as the block names spell it (:func:`emurl.vector.frames.frame_name`: characters
    other than letters, digits, ``_`` and ``.`` become ``_``), shell wildcards kept.

    >>> job_pattern("MiniKart-NintendoDs__neat__0__*")
    'MiniKart_NintendoDs__neat__0__*'
    """
    return None if job is None else _PATTERN_PART.sub("_", job)


def natural_key(text: str) -> tuple:
    """Sort key that orders ``"w2"`` before ``"w10"``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


@dataclass
class Tile:
    """One publisher as the viewer sees it.

    ``frame``: the last frame read, uint8 (H, W, C) (None before the first); ``overlay``: its
    overlay dict; ``seq``: its sequence number; ``changed_at``: ``time.monotonic()`` when
    ``seq`` last changed; ``state``: :data:`LIVE`, :data:`PAUSED`, :data:`ENDED` or :data:`DEAD`;
    ``gone_at``: when it stopped being live (ended or dead), for forgetting it later.
    """

    name: str
    job: str
    worker: str
    pid: int
    reader: FrameReader | None = None
    frame: np.ndarray | None = None
    overlay: dict = field(default_factory=dict)
    seq: int = 0
    changed_at: float = 0.0
    state: str = LIVE
    gone_at: float | None = None

    @property
    def key(self) -> tuple:
        return natural_key(self.job), natural_key(self.worker)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


class Sources:
    """The frame blocks a viewer shows and their latest frames.

    Args:
        job: a job name or shell pattern over job names (``"MiniKart-NintendoDs__neat__0__*"``);
            None: every job.
        workers: worker names to show (``["0", "1"]``); None: all.
        max_tiles: show at most this many (the first in job, then worker order).
        rescan: seconds between listings of the blocks (new workers appear within it).
        pause_s: seconds without a new frame after which a live worker is shown paused.
        forget_s: seconds an ended or dead worker stays shown (unless a new block takes its name
            first: a restarted worker).
    """

    def __init__(self, job: str | None = None, workers=None, max_tiles: int | None = None, rescan: float = 1.0,
                 pause_s: float = 3.0, forget_s: float = 30.0):
        self.pattern = job_pattern(job)
        self.workers = None if workers is None else {str(w) for w in workers}
        self.max_tiles = max_tiles
        self.rescan, self.pause_s, self.forget_s = float(rescan), float(pause_s), float(forget_s)
        self.tiles: dict[str, Tile] = {}
        self._scanned = -float("inf")

    def _wanted(self, info) -> bool:
        if self.pattern is not None and not fnmatch.fnmatchcase(info.job, self.pattern):
            return False
        return self.workers is None or info.worker in self.workers

    def scan(self, now: float) -> None:
        """List the blocks: attach new ones, re-attach a name whose process changed (a restarted
        worker), mark the ones whose process is gone dead."""
        self._scanned = now
        found = {}
        for info in list_publishers():  # also unlinks blocks of dead processes (the readers keep their maps)
            if self._wanted(info):
                found[info.name] = info
        for name, info in found.items():
            tile = self.tiles.get(name)
            if tile is not None and tile.pid == info.pid and tile.reader is not None:
                continue
            if tile is not None:
                tile.close()
            try:
                reader = FrameReader(name)
            except (FileNotFoundError, ValueError, OSError):
                continue  # closed meanwhile
            self.tiles[name] = Tile(name, info.job, info.worker, info.pid, reader, changed_at=now)
        for tile in self.tiles.values():
            if tile.state in (LIVE, PAUSED) and not alive(tile.pid):
                closed = tile.reader is not None and tile.reader.closed  # it closed its block: ended, not killed
                tile.state, tile.gone_at = ENDED if closed else DEAD, now
        for name in [n for n, t in self.tiles.items() if t.gone_at is not None and now - t.gone_at > self.forget_s]:
            self.tiles.pop(name).close()

    def poll(self, now: float | None = None) -> list[Tile]:
        """Read every attached block (scanning first when ``rescan`` has passed); the tiles to
        show, in job then worker order (at most ``max_tiles``)."""
        now = time.monotonic() if now is None else now
        if now - self._scanned >= self.rescan:
            self.scan(now)
        shown = sorted(self.tiles.values(), key=lambda t: t.key)[: self.max_tiles]
        for tile in shown:
            self._read(tile, now)
        return shown

    def _read(self, tile: Tile, now: float) -> None:
        if tile.reader is None or tile.state in (ENDED, DEAD):
            return
        try:
            frame, overlay, seq = tile.reader.read(retries=100)
        except TimeoutError:  # stuck mid-write: its process died there, or is stopped
            if not alive(tile.pid):
                tile.state, tile.gone_at = DEAD, now
            return
        if tile.reader.closed:
            tile.state, tile.gone_at = ENDED, now
        if frame is None:
            return
        if seq != tile.seq:
            tile.frame, tile.overlay, tile.seq, tile.changed_at = frame, overlay, seq, now
            if tile.state == PAUSED:
                tile.state = LIVE
        elif tile.state == LIVE and now - tile.changed_at > self.pause_s:
            tile.state = PAUSED

    def close(self) -> None:
        """Detach every reader (the workers' blocks stay)."""
        for tile in self.tiles.values():
            tile.close()
        self.tiles.clear()


def label(tile: Tile, now: float | None = None) -> tuple[str, str]:
    """A tile's two label lines: worker, episode or genome, agent step; return or fitness so
    far, the buttons pressed, and the state when not live.

    >>> t = Tile("emurl-frames-job-0", "job", "0", 1, overlay={"episode": 3, "step": 120, "return": 12.5,
    ...          "buttons": ["RIGHT", "A"]})
    >>> label(t)
    ('worker 0  episode 3  step 120', 'return 12.5  RIGHT+A')
    """
    o = tile.overlay
    parts = [f"worker {tile.worker}"]
    if o.get("genome") is not None:
        parts.append(f"genome {o['genome']}")
    elif "episode" in o:
        parts.append(f"episode {o['episode']}")
    if "step" in o:
        parts.append(f"step {o['step']}")
    second = []
    if o.get("fitness") is not None:
        second.append(f"fitness {float(o['fitness']):.4g}")
    elif "return" in o:
        second.append(f"return {float(o['return']):.4g}")
    if o.get("buttons"):
        second.append("+".join(str(b) for b in o["buttons"]))
    if tile.state == DEAD:
        second.insert(0, f"DEAD (pid {tile.pid} gone)")
    elif tile.state == ENDED:
        second.insert(0, "ended")
    elif tile.state == PAUSED:
        now = time.monotonic() if now is None else now
        second.insert(0, f"paused {now - tile.changed_at:.0f} s")
    return "  ".join(parts), "  ".join(second)


LABELLED = ("episode", "step", "return", "buttons", "genome", "fitness", "game", "kart", "rays", "checkpoint")
"""Overlay items the label or a game's shapes show already (the variables table leaves them out)."""


def variable_rows(overlay: dict, limit: int = 12) -> list[tuple[str, str]]:
    """The variables table: ``(name, value)`` rows of the overlay's ``variables`` dict (the
    values the scenario reads, where the worker publishes them) and its other number items.

    >>> variable_rows({"step": 3, "speed": 0.5, "variables": {"lap": 1, "x": 123.25}})
    [('lap', '1'), ('x', '123.2'), ('speed', '0.5')]
    """
    items = list((overlay.get("variables") or {}).items())
    items += [(k, v) for k, v in overlay.items() if k not in LABELLED and k != "variables"]
    rows = []
    for name, value in items:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        rows.append((str(name), f"{value:.4g}" if isinstance(value, float) else str(value)))
    return rows[:limit]


__all__ = ["DEAD", "ENDED", "LIVE", "PAUSED", "Sources", "Tile", "alive", "job_pattern", "label", "natural_key",
           "variable_rows"]
