"""Gymnasium environments: :class:`EmulatorEnv`, declared by an :class:`EnvSpec` and built by
:func:`make` / :func:`build_env`; registered as ``emurl/<Game>-v0`` (the settings
:data:`~emurl.envs.spec.V0`) at ``import emurl``."""

from __future__ import annotations

from emurl.envs.emulator_env import EmulatorEnv
from emurl.envs.observation import OBS_TYPES
from emurl.envs.spec import V0, EnvSpec, build_env, check_spec, make, make_aec, make_parallel
from emurl.envs.versus import VersusEnv

__all__ = ["OBS_TYPES", "V0", "EmulatorEnv", "EnvSpec", "VersusEnv", "build_env", "check_spec", "make", "make_aec", "make_parallel"]
