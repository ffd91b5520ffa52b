"""Env workers during training: their restarts in TensorBoard.

:class:`~emurl.vector.SharedMemoryVecEnv` restarts a worker process that died (the OOM
killer, a crash in an emulator core) and counts it in ``worker_restarts``;
:class:`WorkerHealthCallback` records that count as ``workers/restarts`` so that a run's
curves show when it happened. (When workers die more often than the vector env allows, it
raises :class:`~emurl.errors.WorkerError`, and the run saves a checkpoint and stops.)
"""

from __future__ import annotations

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

TAG = "workers/restarts"


def worker_restarts(venv: VecEnv) -> int | None:
    """How many worker processes of ``venv`` (through its wrappers) were started again;
    None for a vector env that does not restart workers (e.g. SB3's ``SubprocVecEnv``)."""
    count = getattr(venv.unwrapped, "worker_restarts", None)
    return int(count) if count is not None else None


class WorkerHealthCallback(BaseCallback):
    """Records ``workers/restarts`` (the vector env's restarts since it started, a count) at
    the end of each rollout, written to TensorBoard with the rollout's other values; nothing
    for a vector env that does not restart workers."""

    def _on_rollout_end(self) -> None:
        count = worker_restarts(self.training_env)
        if count is not None:
            self.logger.record(TAG, count)

    def _on_step(self) -> bool:
        return True


__all__ = ["TAG", "WorkerHealthCallback", "worker_restarts"]
