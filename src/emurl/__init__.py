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

from emurl.envs.registration import register_all
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

from emurl.version import __version__  # re-exported: emurl.__version__

_LAZY = {
    "EmulatorEnv": "emurl.envs",
    "EnvSpec": "emurl.envs.spec",
    "make": "emurl.envs",
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
]
