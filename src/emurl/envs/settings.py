"""Env settings from YAML files and the command line: strings and YAML values checked and
turned into an :class:`~emurl.envs.spec.EnvSpec`, and the per-game presets.

Presets (``src/emurl/configs/<Game>-<System>.yaml``) are training configs: flat keys, some
the env's (``frame_skip``), some the learner's (``n_steps``). :func:`env_settings` takes
only the env's from them; :mod:`emurl.train.config` takes both.
"""

from __future__ import annotations

import os
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from emurl.envs.spec import EnvSpec, _suggest
from emurl.errors import ConfigError

PRESETS = Path(__file__).resolve().parent.parent / "configs"
"""The per-game presets shipped in the package."""
ENV_KEYS = frozenset(f.name for f in fields(EnvSpec))


def coerce(cls: type, name: str, value: Any, where: str) -> Any:
    """``value`` (from YAML, or a command-line string) as the type of field ``name`` of the
    dataclass ``cls``: bools from yes/no/true/false/1/0, ints from ``1e6``, lists from
    ``a,b`` or ``[a, b]``, ``none``/``null`` for an optional field.

    Raises:
        ConfigError: naming ``where``, the setting, the value and the expected type.
    """
    t = typing.get_type_hints(cls)[name]
    text = t.__name__ if isinstance(t, type) else str(t)  # "int", "int | None"
    optional = "None" in text
    if value is None or (isinstance(value, str) and value.lower() in ("none", "null") and optional):
        if optional:
            return None
        raise ConfigError(f"{where}: {name} cannot be empty (expected {text})")
    try:
        if "bool" in text:
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(value, (list, tuple)) and "list |" in text:  # action_set: a list of button combos
            return [list(c) if isinstance(c, (list, tuple)) else str(c) for c in value]
        if "list[" in text:  # list[str] or list[int]; from the command line "a,b" or "[a, b]"
            items = value
            if isinstance(value, str):
                items = [v.strip() for v in value.replace("[", "").replace("]", "").split(",") if v.strip()]
            if not isinstance(items, (list, tuple)):
                raise ValueError
            return [int(v) for v in items] if "list[int]" in text else [str(v) for v in items]
        if text.startswith("int") or t is int:
            if isinstance(value, bool):  # True is an int to Python, not a number to a user
                raise ValueError
            if isinstance(value, str) and ("e" in value.lower() or "." in value):
                value = float(value)  # "1e6" (a whole number written short)
            if isinstance(value, float) and not value.is_integer():  # "1.5" is not rounded silently
                raise ValueError
            return int(value)
        if t is float:
            return float(value)
        return str(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{where}: {name} = {value!r} is not a valid {text}") from None


def spec_from_dict(values: dict, where: str, base: EnvSpec | None = None) -> EnvSpec:
    """``base`` (default: ``EnvSpec()``) with ``values`` (strings or YAML values) set.

    Raises:
        ConfigError: an unknown key (with close names) or a bad value, naming ``where``.
    """
    known = {f.name for f in fields(EnvSpec)}
    changes = {}
    for k, v in values.items():
        key = k.replace("-", "_")
        if key not in known:
            raise ConfigError(f"{where}: unknown env setting {k!r}{_suggest(key, EnvSpec)}")
        changes[key] = coerce(EnvSpec, key, v, where)
        if key in ("info", "save") and changes[key] and os.path.isfile(os.path.expanduser(changes[key])):
            # a variables or save file's path, made absolute: the frozen config of a run must find it from any folder
            changes[key] = os.path.abspath(os.path.expanduser(changes[key]))
    try:
        return (base or EnvSpec()).replace(**changes)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_yaml(path: str | os.PathLike) -> dict:
    """Read a YAML mapping.

    Raises:
        ConfigError: the file can't be read, is not YAML, or is not a mapping (names the file).
    """
    try:
        with open(path, "rb") as f:  # bytes: PyYAML reports bad UTF-8 as a YAMLError (text mode would not)
            data = yaml.safe_load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level, got {type(data).__name__}")
    return data


def preset_path(game: str, kind: str = "") -> Path | None:
    """``src/emurl/configs/<Game>-<System>.yaml`` if the game has a preset (``kind``, e.g.
    ``"selfplay"``: ``<Game>-<System>.selfplay.yaml``)."""
    p = PRESETS / f"{EnvSpec(game).game}{'.' + kind if kind else ''}.yaml"
    return p if p.is_file() else None


def env_values(values: dict, where: str) -> dict:
    """The env's settings among a config's ``values``: flat keys that are
    :class:`~emurl.envs.spec.EnvSpec` fields, and those under ``env:`` (the others are the
    learner's, checked by :mod:`emurl.train.config`)."""
    out = {k.replace("-", "_"): v for k, v in values.items() if k.replace("-", "_") in ENV_KEYS}
    nested = values.get("env")
    if nested is not None:
        if not isinstance(nested, dict):
            raise ConfigError(f"{where}: env must be a mapping of env settings, got {type(nested).__name__}")
        out.update(nested)
    return out


def env_settings(game: str, config: str | os.PathLike | None = None, overrides: dict | None = None,
                 base: EnvSpec | None = None) -> EnvSpec:
    """The env of ``game`` as training would make it: ``base`` (default ``EnvSpec()``) ←
    the game's preset ← ``config`` (a YAML file) ← ``overrides`` (None values skipped);
    only env settings are taken from the files.

    Raises:
        ConfigError: a bad value or unreadable file, naming it.
    """
    spec = (base or EnvSpec()).replace(game=game)
    preset = preset_path(game)
    if preset:
        spec = spec_from_dict(env_values(load_yaml(preset), str(preset)), str(preset), spec)
    if config:
        spec = spec_from_dict(env_values(load_yaml(config), str(config)), str(config), spec)
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    return spec_from_dict(overrides, "command line", spec)
