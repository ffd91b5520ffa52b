"""make_vec_env: ``num_envs`` copies of one :class:`~emurl.envs.EnvSpec`'s env, one process each."""

from __future__ import annotations

import functools

import gymnasium as gym
from stable_baselines3.common.monitor import Monitor

from emurl.envs import EnvSpec, build_env
from emurl.envs.settings import spec_from_dict
from emurl.vector.shm import SharedMemoryVecEnv


def _monitored_env(spec: EnvSpec) -> gym.Env:
    return Monitor(build_env(spec))


def make_vec_env(game: str | EnvSpec, num_envs: int, seed: int = 0, pipeline: str | None = "atari",
                 **settings) -> SharedMemoryVecEnv:
    """``num_envs`` copies of ``emurl.make(game, pipeline=pipeline, **settings)``, one process each.

    Each env is :func:`~emurl.envs.build_env` of one :class:`~emurl.envs.EnvSpec`, wrapped
    in SB3's ``Monitor`` (episode returns in ``info["episode"]``); env ``i`` is seeded
    ``seed + i`` at the first ``reset()``.

    Args:
        game: an integration name, or an :class:`~emurl.envs.EnvSpec` (then ``pipeline``
            is the spec's own and ``settings`` change it).
        num_envs: worker processes, one env each.
        seed: the seed of env 0.
        pipeline: ``"atari"`` (84×84 gray, 4 stacked) or None, for a game name.
        **settings: any :class:`~emurl.envs.EnvSpec` field (``frame_skip``,
            ``max_episode_steps``, ...); ``pipeline_kwargs`` as :func:`emurl.make` takes it.

    Returns:
        A :class:`~emurl.vector.shm.SharedMemoryVecEnv` (also for ``num_envs == 1``); with
        the default ``"atari"`` pipeline its observations are uint8 ``(num_envs, 4, 84, 84)``.

    Raises:
        ValueError: ``num_envs < 1``.
        ConfigError: an unknown setting or a bad value (checked here, before any worker starts).
        EmurlError: building the env failed in a worker with one (``UnknownGameError``,
            ``RomNotFoundError``, ``UnknownStateError``, ...): raised again here, same class
            and message as ``emurl.make`` in this process.
        WorkerError: another failure in a worker (names the env and the game).
    """
    if int(num_envs) < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs!r}")
    settings.update(settings.pop("pipeline_kwargs", None) or {})
    base = game if isinstance(game, EnvSpec) else EnvSpec(game, pipeline=pipeline)
    spec = spec_from_dict(settings, "make_vec_env", base=base)
    venv = SharedMemoryVecEnv([functools.partial(_monitored_env, spec)] * int(num_envs))
    venv.seed(seed)
    return venv


def subprocess_vec_env(env_fns: list) -> SharedMemoryVecEnv:
    """One worker process per env with observations pickled through the pipes
    (``SharedMemoryVecEnv(env_fns, shared_memory=False)``): for ``Dict`` observations, which
    one shared array does not hold; small ones (e.g. ``obs_type="features"``), so the pickle
    costs little. It replaces Stable-Baselines3's ``SubprocVecEnv`` (same API), whose worker
    prints its own traceback and leaves the parent an ``EOFError`` when its env raises or it
    dies: here an error comes back as itself and a dead worker is restarted."""
    return SharedMemoryVecEnv(env_fns, shared_memory=False)


__all__ = ["make_vec_env", "subprocess_vec_env"]
