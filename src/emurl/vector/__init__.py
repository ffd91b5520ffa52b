"""Parallel envs, one worker process each, with observations in shared memory.

stable-retro allows only one emulator per process, so parallel envs must be separate
processes. :class:`SharedMemoryVecEnv` (:mod:`emurl.vector.shm`) works like
Stable-Baselines3's ``SubprocVecEnv`` but each worker (:mod:`emurl.vector.worker`) writes
its observation straight into one shared-memory array instead of pickling it through a
pipe; only rewards, done flags and info dicts go through the pipe. A worker that dies
(OOM killer, emulator crash) is restarted (:mod:`emurl.vector.faults`: errors, deaths,
restarts).
:func:`make_vec_env` (:mod:`emurl.vector.make`) builds one :class:`~emurl.envs.EnvSpec`'s
env in each. :mod:`emurl.emulators.process` is how every emurl tool starts and sets up its
worker processes (this one, dataset recording, the benchmark).

Scripts that use it must guard their entry point with ``if __name__ == "__main__":``
(workers are started with ``forkserver`` or ``spawn``, which import the main module).

>>> from emurl.vector import make_vec_env
>>> venv = make_vec_env("Airstriker-Genesis", num_envs=2, seed=0)
>>> venv.reset().shape
(2, 4, 84, 84)
>>> venv.close()
"""

from __future__ import annotations

from emurl.emulators.process import (  # the one worker-process set-up, for train/
    mp_context, process_pool, setup_worker_process, stop_pool)
from emurl.vector.faults import WorkerRestartWarning
from emurl.vector.make import make_vec_env, subprocess_vec_env
from emurl.vector.shm import SharedMemoryVecEnv

__all__ = ["SharedMemoryVecEnv", "WorkerRestartWarning", "make_vec_env", "mp_context", "process_pool",
           "setup_worker_process", "stop_pool", "subprocess_vec_env"]
