"""The opponent pool of a self-play run: who plays the other seat, drawn per episode.

A pool is a folder (``<run>/pool/``) holding ``pool.json`` and the policies it names:

- ``current.zip``: the learner's latest weights (self-play), rewritten as it learns;
- ``snapshot_<steps>.zip``: frozen past selves, one every ``snapshot_every`` steps, the
  oldest dropped once there are more than ``size``;
- anchors, fixed players that never change: ``"random"`` (a random reachable placement)
  and ``"greedy"`` (the integration's rule-based player), so the learner is always
  measured against the same yardsticks.

Each episode's opponent is drawn (:meth:`Pool.draw`): ``current`` with probability
``self_play``, else one of the others, uniformly (``sampling="uniform"``) or by
prioritised fictitious self-play (``sampling="pfsp"``: weight ``p (1 - p)`` where ``p`` is
the learner's win rate against it, so opponents it beats about half the time are drawn
most; AlphaStar's "variance" weighting, Vinyals et al. 2019, Nature 575), or
``sampling="pfsp_hard"``: weight ``(1 - p)**2``, the opponents it loses to drawn most (the
same paper's "hard" weighting, the one its main agents used against their past selves). ``p``
is ``(wins + 1) / (games + 2)``: an opponent without games weighs as one at 50 %.

``pool.json`` is written atomically by the learner (the one writer); env workers only read
it, again whenever its modification time changes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emurl.errors import ConfigError
from emurl.fileio import atomic_write
from emurl.train.config import POOL_ANCHORS, POOL_SAMPLING

ANCHORS = POOL_ANCHORS
"""Fixed opponents a pool can hold besides policies."""
CURRENT = "current"
SAMPLING = POOL_SAMPLING
INDEX = "pool.json"


@dataclass
class Entry:
    """One opponent of the pool: ``id`` (``"current"``, an anchor's name or ``snapshot_<steps>``),
    ``kind`` (``"current"``, ``"anchor"`` or ``"snapshot"``), the policy file (relative to the
    pool folder; None for anchors), the learner's steps when it was taken, and the
    learner's record against it: ``games`` played, ``wins``."""

    id: str
    kind: str
    path: str | None = None
    steps: int = 0
    games: int = 0
    wins: int = 0

    @property
    def win_rate(self) -> float:
        """The learner's smoothed win rate against this opponent: ``(wins + 1) / (games + 2)``."""
        return (self.wins + 1) / (self.games + 2)


@dataclass
class Pool:
    """A pool folder (see the module docstring).

    Args:
        folder: the pool folder (created on :meth:`save`).
        size: snapshots kept (the oldest are dropped; anchors and ``current`` don't count).
        self_play: probability of drawing ``current``.
        sampling: ``"uniform"``, ``"pfsp"`` or ``"pfsp_hard"`` over the other entries.
        anchors: fixed opponents, a subset of :data:`ANCHORS`.

    Raises:
        ConfigError: a setting out of range.
    """

    folder: Path
    size: int = 10
    self_play: float = 0.5
    sampling: str = "pfsp"
    anchors: tuple[str, ...] = ANCHORS
    entries: dict[str, Entry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ConfigError(f"pool size must be a whole number >= 1, got {self.size!r}")
        if not 0.0 <= float(self.self_play) <= 1.0:
            raise ConfigError(f"self_play must be a probability in [0, 1], got {self.self_play!r}")
        if self.sampling not in SAMPLING:
            raise ConfigError(f"sampling must be one of {', '.join(SAMPLING)}, got {self.sampling!r}")
        unknown = set(self.anchors) - set(ANCHORS)
        if unknown:
            raise ConfigError(f"anchors must be among {', '.join(ANCHORS)}, got {sorted(unknown)}")
        self.anchors = tuple(self.anchors)
        if not self.entries:
            self.entries = {CURRENT: Entry(CURRENT, "current", "current.zip")}
            self.entries.update({a: Entry(a, "anchor") for a in self.anchors})

    # -- drawing ----------------------------------------------------------------------
    def weights(self) -> dict[str, float]:
        """Probability of each entry being drawn (sums to 1): ``current`` ``self_play``, the rest
        shared by ``sampling`` (``current`` always, when the pool holds nothing else)."""
        others = [e for e in self.entries.values() if e.kind != "current"]
        if not others:
            return {CURRENT: 1.0}
        p = np.array([e.win_rate for e in others])
        if self.sampling == "uniform":
            w = np.ones(len(others))
        elif self.sampling == "pfsp_hard":
            w = (1.0 - p) ** 2
        else:
            w = p * (1.0 - p)
        w = w / w.sum() * (1.0 - self.self_play)
        out = {CURRENT: float(self.self_play)} if CURRENT in self.entries else {}
        out.update({e.id: float(x) for e, x in zip(others, w)})
        total = sum(out.values())
        return {k: v / total for k, v in out.items()}

    def draw(self, rng: np.random.Generator) -> Entry:
        """One opponent, drawn by :meth:`weights`."""
        weights = self.weights()
        ids = list(weights)
        return self.entries[ids[int(rng.choice(len(ids), p=np.array([weights[i] for i in ids])))]]

    # -- learner side -----------------------------------------------------------------
    def record(self, opponent: str, win: bool) -> None:
        """Count one finished game of the learner against ``opponent`` (an unknown id, e.g.
        a snapshot dropped meanwhile, is ignored)."""
        entry = self.entries.get(opponent)
        if entry is not None:
            entry.games += 1
            entry.wins += int(bool(win))

    def add_snapshot(self, policy_zip: bytes, steps: int) -> Entry:
        """Freeze ``policy_zip`` (an SB3 checkpoint's bytes) as ``snapshot_<steps>``; drop the
        oldest snapshots beyond :attr:`size` (their files too). Call :meth:`save` after."""
        entry = Entry(f"snapshot_{steps:09d}", "snapshot", f"snapshot_{steps:09d}.zip", steps)
        atomic_write(self.folder / entry.path, policy_zip)
        self.entries[entry.id] = entry
        snapshots = sorted((e for e in self.entries.values() if e.kind == "snapshot"), key=lambda e: e.steps)
        for old in snapshots[:max(0, len(snapshots) - self.size)]:
            del self.entries[old.id]
            try:
                os.remove(self.folder / old.path)
            except FileNotFoundError:
                pass
        return entry

    def set_current(self, policy_zip: bytes) -> None:
        """Replace ``current.zip`` (atomically: a worker never reads half a file)."""
        atomic_write(self.folder / "current.zip", policy_zip)

    def save(self) -> Path:
        """Write ``pool.json`` atomically; returns its path."""
        doc = {"size": self.size, "self_play": self.self_play, "sampling": self.sampling,
               "anchors": list(self.anchors), "entries": [vars(e) for e in self.entries.values()]}
        return atomic_write(self.folder / INDEX, (json.dumps(doc, indent=1) + "\n").encode())

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "Pool":
        """The pool saved in ``folder``.

        Raises:
            ConfigError: no ``pool.json`` there, or a damaged one (names the file).
        """
        path = Path(folder) / INDEX
        try:
            doc = json.loads(path.read_text())
            entries = {e["id"]: Entry(**e) for e in doc["entries"]}
            return cls(Path(folder), size=doc["size"], self_play=doc["self_play"], sampling=doc["sampling"],
                       anchors=tuple(doc["anchors"]), entries=entries)
        except FileNotFoundError:
            raise ConfigError(f"{path}: no opponent pool here (a self-play run's pool/ folder holds pool.json)") from None
        except (ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{path}: a damaged pool index ({type(e).__name__}: {e}); expected the JSON "
                              "that emurl selfplay writes") from None


__all__ = ["ANCHORS", "CURRENT", "Entry", "INDEX", "Pool", "SAMPLING"]
