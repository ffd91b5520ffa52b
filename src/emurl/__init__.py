"""emurl: train agents to play console games through real emulators.

>>> import emurl
>>> env = emurl.make("Airstriker-Genesis", pipeline="atari")
>>> env.observation_space, env.action_space
(Box(0, 255, (4, 84, 84), uint8), Discrete(126))
>>> env.close()

The errors are imported eagerly (plain classes); ``make``, ``EmulatorEnv`` and ``EnvSpec``
on first use (PEP 562). ``import emurl`` registers ``emurl/<Game>-v0`` with Gymnasium, so
``import emurl; gymnasium.make("emurl/Breakout-Atari2600-v0")`` works: Gymnasium has no
hook to register ids on demand.
"""

from __future__ import annotations

import importlib

from gymnasium.envs.registration import EnvSpec as _GymEnvSpec
from gymnasium.envs.registration import registry as _registry

from emurl.errors import (
    ConfigError,
    EmulatorError,
    EmurlError,
    IntegrationError,
    MovieError,
    RomNotFoundError,
    UnknownGameError,
    UnknownStateError,
)
from emurl.games.integration import integration_folders
from emurl.version import __version__  # re-exported: emurl.__version__

_LAZY = {
    "EmulatorEnv": "emurl.envs",
    "EnvSpec": "emurl.envs",
    "make": "emurl.envs",
    "make_parallel": "emurl.envs",
    "make_aec": "emurl.envs",
}
"""Attribute -> the module that defines it, imported on first access."""


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'emurl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later accesses skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def register_all() -> None:
    """Register ``emurl/<Game>-v0`` for every integration found, built by
    :func:`emurl.envs.spec.make_v0` with the settings :data:`~emurl.envs.spec.V0`, so
    ``gymnasium.make("emurl/X-v0")`` and ``emurl.make("X")`` give the same env. An id
    already registered (by the user) is left alone.

    Cheap, as it runs at ``import emurl``: folder names only; the entry point is a string,
    so neither the env nor an emulator is imported; the registry dict is written directly
    (``gymnasium.register`` checks the whole registry on every call: ~43 ms for 1008 ids on
    this machine, against ~3 ms).
    """
    for name in integration_folders():
        env_id = f"emurl/{name}-v0"
        if env_id not in _registry:
            _registry[env_id] = _GymEnvSpec(env_id, entry_point="emurl.envs.spec:make_v0", kwargs={"game": name})


# Registration at import: `gymnasium.make("emurl/X-v0")` after `import emurl` needs the ids
# in Gymnasium's registry, and Gymnasium looks them up in a plain dict (no lazy hook). It
# costs gymnasium's own import (+ numpy) and a scan of the integration folders' names; the
# env, its wrappers and the emulators load only when an env is made.
register_all()


__all__ = [
    "ConfigError",
    "EmulatorEnv",
    "EmulatorError",
    "EmurlError",
    "EnvSpec",
    "IntegrationError",
    "MovieError",
    "RomNotFoundError",
    "UnknownGameError",
    "UnknownStateError",
    "make",
    "make_aec",
    "make_parallel",
]
