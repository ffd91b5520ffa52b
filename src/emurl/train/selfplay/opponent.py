"""The self-play opponent inside an env worker: each episode it draws who plays the other seat
from the run's pool (:class:`~emurl.train.selfplay.pool.Pool`) and plays it there, on the
worker's CPU, so the learner never waits for its opponents.

Policies are loaded once per file version (``current.zip`` again only when the learner has
rewritten it), not per step nor per episode; ``pool.json`` is read again only when it
changes. Opponents choose placements (:class:`~emurl.wrappers.placement.PlacementOpponent`
presses the frames): a policy samples a placement its mask allows from its own seat's
observation; ``"random"`` picks an allowed placement uniformly; ``"greedy"`` is the
integration's rule-based player.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from sb3_contrib import MaskablePPO

from emurl.train.selfplay.pool import INDEX, Entry, Pool
from emurl.wrappers.placement import PlacementOpponent
from emurl.wrappers.tree_features import policy_placement


class _Policies:
    """Loaded policies by file, reloaded when the file's modification time changes."""

    def __init__(self, keep: int = 4):
        self.keep = keep
        self._loaded: dict[Path, tuple[int, object]] = {}

    def get(self, path: Path):
        mtime = os.stat(path).st_mtime_ns
        hit = self._loaded.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        if len(self._loaded) >= self.keep:
            self._loaded.pop(next(iter(self._loaded)))
        torch.set_num_threads(1)  # a worker process: one core each, inference of a small net
        model = MaskablePPO.load(path, device="cpu")
        self._loaded[path] = (mtime, model)
        return model


class PoolOpponent:
    """The other seat's player for :class:`~emurl.wrappers.opponent.OpponentSeat` (pass
    ``lambda env, seat: PoolOpponent(env, seat, pool_dir)`` as ``build_env``'s
    ``make_opponent``).

    Args:
        env: the two-seat env (frame skip 1, button-combo actions, placement declared).
        seat: the opponent's seat (0 or 1).
        pool_dir: the pool folder (``pool.json`` and the policy files).
        seed: seeds the draws (each ``reset(seed)`` with a seed reseeds them).

    :attr:`name` is the id of the opponent of this episode (``"current"``, ``"random"``,
    ``"greedy"`` or ``"snapshot_<steps>"``); ``OpponentSeat`` reports it as
    ``info["opponent"]``.
    """

    def __init__(self, env, seat: int, pool_dir: str | os.PathLike, seed: int | None = None):
        self.folder = Path(pool_dir)
        self.player = PlacementOpponent(env, seat, choose=self._choose)
        self.rng = np.random.default_rng(seed)
        self._policies = _Policies()
        self._pool: Pool | None = None
        self._pool_mtime = -1
        self._entry: Entry | None = None
        self._model = None

    @property
    def name(self) -> str | None:
        return None if self._entry is None else self._entry.id

    def _read_pool(self) -> Pool:
        try:
            mtime = os.stat(self.folder / INDEX).st_mtime_ns
        except FileNotFoundError:
            return Pool.load(self.folder)  # raises ConfigError: no pool here
        if self._pool is None or mtime != self._pool_mtime:
            self._pool, self._pool_mtime = Pool.load(self.folder), mtime
        return self._pool

    def reset(self, seed: int | None = None) -> None:
        """Draw this episode's opponent (and load its policy if it has one)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed + 7919)  # not the env's own stream
        self._entry = self._read_pool().draw(self.rng)
        self._model = self._policies.get(self.folder / self._entry.path) if self._entry.path else None
        # greedy: the placement player's own choice (it reuses its search of the reachable placements)
        self.player.choose = None if self._entry.id == "greedy" else self._choose

    def _choose(self, observation, mask: np.ndarray, values) -> int:
        if self._entry is None:
            self.reset()
        if self._model is not None:
            return policy_placement(self._model, observation, mask, values, self.player.seat)
        allowed = np.flatnonzero(mask)
        return int(self.rng.choice(allowed)) if allowed.size else 0

    def __call__(self, observation, info: dict) -> int:
        return self.player(observation, info)


__all__ = ["PoolOpponent"]
