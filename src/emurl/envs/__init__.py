"""Gymnasium environments: :class:`EmulatorEnv`, declared by an :class:`EnvSpec` and built by
:func:`make`; registered as ``emurl/<Game>-v0`` (the settings :data:`~emurl.envs.spec.V0`)."""

from __future__ import annotations

import gymnasium as gym

from emurl.envs.emulator_env import EmulatorEnv
from emurl.envs.spec import OBS_TYPES, V0, EnvSpec, build_env, check_spec, make
from emurl.games.integration import integration_folders

_registered = False


def register_all() -> None:
    """Register ``emurl/<Game>-v0`` for every integration found (reads folder names only),
    each built by :func:`make` with the pinned settings :data:`~emurl.envs.spec.V0`, so
    ``gymnasium.make("emurl/X-v0")`` and ``emurl.make("X")`` give the same env."""
    global _registered
    if _registered:
        return
    for name in integration_folders():
        env_id = f"emurl/{name}-v0"
        if env_id not in gym.registry:
            gym.register(env_id, entry_point="emurl.envs.spec:make", kwargs={"game": name, **V0})
    _registered = True


__all__ = ["OBS_TYPES", "V0", "EmulatorEnv", "EnvSpec", "build_env", "check_spec", "make", "register_all"]
