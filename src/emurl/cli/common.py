"""What several verb modules share: ``--set KEY=VALUE`` parsing and the training settings as flags."""

from __future__ import annotations

import argparse

from emurl.errors import EmurlError
from emurl.train.config import settings


def parse_set(items) -> dict:
    """``--set KEY=VALUE`` arguments as a dict of overrides (values stay strings: the
    config parses them).

    Raises:
        EmurlError: an item without ``=``.
    """
    overrides = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise EmurlError(f"--set {item!r}: expected KEY=VALUE")
        overrides[key] = value
    return overrides


def add_config_flags(p: argparse.ArgumentParser) -> None:
    """One ``--kebab-name`` flag per training setting (env and run; ``game`` and ``algo``
    have their own), default None (unset), the setting's docstring, default and allowed
    values (numbers) as help."""
    for s in settings():
        if s.name in ("game", "algo"):
            continue
        allowed = f"; {s.allowed}" if s.allowed else ""
        p.add_argument("--" + s.name.replace("_", "-"), dest=s.name, default=None, metavar=s.name.upper(),
                       help=f"{s.doc} [default {s.default}{allowed}]")


def add_run_flags(p: argparse.ArgumentParser) -> None:
    """The flags of a verb that trains a run (``train``, ``selfplay``): ``--set``,
    ``--no-progress``, ``--show N`` and one flag per setting (:func:`add_config_flags`)."""
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any setting, repeatable")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--show", type=int, metavar="N", help="env workers 0..N-1 publish their screens for `emurl watch` "
                   "(it prints the command); unwatched they cost nothing")
    add_config_flags(p)


def config_overrides(args: argparse.Namespace) -> dict:
    """The training settings given as flags (:func:`add_config_flags`, ``--game``, ``--algo``)
    and ``--set``, as a dict of overrides."""
    overrides = {s.name: getattr(args, s.name) for s in settings() if getattr(args, s.name, None) is not None}
    overrides.update(parse_set(args.set))
    return overrides
