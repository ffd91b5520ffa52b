"""``emurl <verb>``: the command line, one module per verb group.

- :mod:`~emurl.cli.games`: ``games list|show|check``, ``roms import``;
- :mod:`~emurl.cli.train`: ``train``, ``eval``;
- :mod:`~emurl.cli.bench`: ``bench``;
- :mod:`~emurl.cli.mkds`: ``mkds start-state|import-rom|courses|check``;
- :mod:`~emurl.cli.movies`: ``replay``, ``mkds ghosts``;
- :mod:`~emurl.cli.play`: ``play``;
- :mod:`~emurl.cli.learn`: ``dataset record|info``, ``bc``;
- :mod:`~emurl.cli.neat`: ``neat``;
- :mod:`~emurl.cli.selfplay`: ``selfplay``, ``league``, ``match``;
- :mod:`~emurl.cli.distill`: ``distill``;
- :mod:`~emurl.cli.watch`: ``watch``;
- :mod:`~emurl.cli.dashboard`: ``dashboard``;
- :mod:`~emurl.cli.common`: ``--set`` parsing and the training settings as flags.

Each module's ``register(subparsers)`` adds its verbs; each verb returns an exit status
and raises :class:`~emurl.errors.EmurlError` on a user error, which :func:`main` prints
(exit status 2), as it does a path that is missing, taken, or a file where a folder is
expected or the reverse (FileNotFoundError, FileExistsError, NotADirectoryError,
IsADirectoryError). The verb modules import nothing from this package module, so there is
no cycle; PyTorch and Stable-Baselines3 load only inside the verbs that need them.
"""

from __future__ import annotations

import argparse
import os
import sys

from emurl.cli import bench, dashboard, distill, games, learn, mkds, movies, neat, play, selfplay, train, watch
from emurl.errors import EmurlError


def build_parser() -> argparse.ArgumentParser:
    """The ``emurl`` parser with every verb; ``args.func(args)`` runs the chosen one."""
    parser = argparse.ArgumentParser(prog="emurl", description="Train agents to play console games through real emulators.")
    sub = parser.add_subparsers(dest="verb", required=True)
    games.register(sub)  # games, roms
    train.register(sub)  # train, eval
    bench.register(sub)
    mkds.register(sub)  # before movies: it adds `ghosts` to the same `mkds` verb
    movies.register(sub)  # replay, mkds ghosts
    play.register(sub)
    learn.register(sub)  # dataset, bc
    neat.register(sub)
    selfplay.register(sub)  # selfplay, league, match
    distill.register(sub)
    dashboard.register(sub)
    watch.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``emurl`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except (EmurlError, FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
        # the OSErrors: a path that is missing, taken, or a file where a folder is expected (or
        # the reverse); their message names it, so one line says it all
        print(f"emurl: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `emurl games show X | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit would fail again
        return 0


__all__ = ["build_parser", "main"]
