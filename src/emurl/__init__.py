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

__version__ = "0.1.0"

_LAZY = {
    "EmulatorEnv": "emurl.envs",
    "EnvSpec": "emurl.envs.spec",
    "make": "emurl.envs",
    "register_all": "emurl.envs",
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


# Registration at import: `gymnasium.make("emurl/X-v0")` after `import emurl` needs the ids
# in Gymnasium's registry, and Gymnasium looks them up in a plain dict (no lazy hook).
# Measured (python -X importtime, this machine): `import emurl` without this line 2.4 ms;
# with it ~190-210 ms, of which gymnasium + numpy ~105 ms, emurl.envs ~60 ms, the folder
# scan of 1008 integrations ~10-18 ms and gymnasium.register's per-id check of the whole
# registry ~43 ms.
__getattr__("register_all")()


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
]
