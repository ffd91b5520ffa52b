"""The learner's side of self-play: env workers that play either seat against the pool, and
the callback that keeps the pool (current weights, snapshots, results) as training goes.

Worker ``rank`` plays seat ``rank % 2``: with two or more envs the learner plays both
sides of the board every rollout. Its opponent is a
:class:`~emurl.train.selfplay.opponent.PoolOpponent` in the same process.
"""

from __future__ import annotations

import io
from collections import defaultdict, deque
from pathlib import Path

import gymnasium as gym
from stable_baselines3.common.callbacks import BaseCallback

from emurl.envs import EnvSpec, build_env
from emurl.train.selfplay.opponent import PoolOpponent
from emurl.train.selfplay.pool import INDEX, Entry, Pool


class SelfPlayEnvFactory:
    """A picklable constructor of worker ``rank``'s env: ``spec`` with the agent in seat
    ``rank % 2`` and a :class:`PoolOpponent` on ``pool_dir`` in the other (seeded ``seed + rank``)."""

    def __init__(self, spec: EnvSpec, pool_dir: str | Path, rank: int, seed: int = 0):
        self.spec = spec.replace(seat=rank % 2, opponent=None, players=1)
        self.pool_dir = str(pool_dir)
        self.seed = seed + rank

    def __call__(self) -> gym.Env:
        return build_env(self.spec, make_opponent=self._opponent)

    def _opponent(self, env, seat: int) -> PoolOpponent:
        return PoolOpponent(env, seat, self.pool_dir, seed=self.seed)


def policy_bytes(model) -> bytes:
    """An SB3 model saved to bytes (the zip ``model.save`` writes), without its replay buffer."""
    buf = io.BytesIO()
    model.save(buf)
    return buf.getvalue()


class PoolCallback(BaseCallback):
    """Keeps the pool while the learner trains:

    - at the start, ``current.zip`` (the weights workers load for self-play games);
    - after each rollout, ``current.zip`` again, and a snapshot each time the step count
      passes a multiple of ``snapshot_every``;
    - at each finished episode, the result against the opponent it was played against
      (``info["opponent"]``, and ``info["win"]`` from the game's scenario);
    - TensorBoard: ``selfplay/win_rate/<opponent>`` over the last ``window`` games against
      each, and ``selfplay/snapshots``.

    ``pool.json`` is rewritten (atomically) after every rollout. Call :meth:`prime` before
    ``learn``: Stable-Baselines3 resets the envs (whose opponents draw from the pool) before
    any callback runs.
    """

    def __init__(self, pool: Pool, snapshot_every: int, window: int = 100):
        super().__init__()
        self.pool = pool
        self.snapshot_every = int(snapshot_every)
        self.recent: dict[str, deque] = defaultdict(lambda: deque(maxlen=window))
        self._next_snapshot = 0

    def prime(self, model) -> None:
        """Write ``current.zip`` from ``model`` and ``pool.json``, so the workers' first episodes
        find an opponent."""
        self.pool.set_current(policy_bytes(model))
        self.pool.save()

    def _on_training_start(self) -> None:
        steps = self.model.num_timesteps
        self._next_snapshot = (steps // self.snapshot_every + 1) * self.snapshot_every

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"]):
            if done and "opponent" in info:
                win = bool(info.get("win", False))
                self.pool.record(info["opponent"], win)
                self.recent[info["opponent"]].append(win)
        return True

    def _on_rollout_end(self) -> None:
        data = policy_bytes(self.model)
        self.pool.set_current(data)
        steps = self.model.num_timesteps
        if steps >= self._next_snapshot:
            self.pool.add_snapshot(data, steps)
            self._next_snapshot = (steps // self.snapshot_every + 1) * self.snapshot_every
        self.pool.save()
        for name, games in self.recent.items():
            if games:
                self.logger.record(f"selfplay/win_rate/{name}", sum(games) / len(games))
        self.logger.record("selfplay/snapshots", sum(e.kind == "snapshot" for e in self.pool.entries.values()))


def pool_callback(cfg, run_dir: Path, model) -> PoolCallback:
    """The pool callback of a self-play run (a :class:`~emurl.train.config.TrainConfig` with
    ``selfplay``): its pool in ``run_dir/pool`` (kept with its results on resume, under the
    config's current pool settings), primed with ``model``'s weights."""
    folder = Path(run_dir) / "pool"
    settings = dict(size=cfg.pool_size, self_play=cfg.self_play, sampling=cfg.pool_sampling,
                    anchors=tuple(cfg.pool_anchors))
    if (folder / INDEX).is_file():
        kept = Pool.load(folder)
        pool = Pool(folder, **settings, entries={k: e for k, e in kept.entries.items()
                                                 if e.kind != "anchor" or e.id in settings["anchors"]})
        for anchor in settings["anchors"]:
            pool.entries.setdefault(anchor, Entry(anchor, "anchor"))
    else:
        pool = Pool(folder, **settings)
    callback = PoolCallback(pool, cfg.snapshot_every)
    callback.prime(model)
    return callback


__all__ = ["PoolCallback", "SelfPlayEnvFactory", "policy_bytes", "pool_callback"]
