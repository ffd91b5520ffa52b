"""Gymnasium environments: :class:`EmulatorEnv`, declared by an :class:`EnvSpec` and built by
:func:`make` / :func:`build_env`; registered as ``emurl/<Game>-v0`` (the settings
:data:`~emurl.envs.spec.V0`) by :func:`register_all`.

The names below load on first use (PEP 562): ``import emurl`` imports
:mod:`emurl.envs.registration` and must not pay for the env and its emulators.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "EmulatorEnv": "emurl.envs.emulator_env",
    "OBS_TYPES": "emurl.envs.emulator_env",
    "EnvSpec": "emurl.envs.spec",
    "V0": "emurl.envs.spec",
    "build_env": "emurl.envs.spec",
    "check_spec": "emurl.envs.spec",
    "make": "emurl.envs.spec",
    "register_all": "emurl.envs.registration",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'emurl.envs' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = list(_LAZY)
