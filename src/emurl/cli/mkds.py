"""Command-line functions for Mario Kart DS, for ``emurl.cli`` to wire in.

- :func:`register` adds ``emurl mkds`` with ``start-state``, ``import-rom``, ``courses``
  and ``check``;
- :func:`add_check_arguments` and :func:`games_check` are ``emurl games check GAME``'s
  arguments and function::

      p = gsub.add_parser("check", help="reach a race and show the variables live")
      p.add_argument("game")
      mkds_cli.add_check_arguments(p)
      p.set_defaults(func=mkds_cli.games_check)

Each function returns the exit status and raises :class:`~emurl.errors.EmurlError` on a
user error, as the others in ``emurl.cli`` (``main`` prints it and exits with 2).
"""

from __future__ import annotations

import argparse

from emurl.emulators import DS_BACKENDS
from emurl.errors import EmurlError
from emurl.games.integration import canonical_name
from emurl.games.mkds.courses import COURSES
from emurl.games.mkds.game import GAME
from emurl.games.smk import GAME as SMK_GAME
from emurl.states.check import check_game
from emurl.states.mkds import make_start_state
from emurl.states.mkds_rom import import_rom
from emurl.states.smk_check import check_game as smk_check_game



def _start_state(args) -> int:
    made = make_start_state(
        args.rom, args.course, character=args.character, kart=args.kart, backend=args.backend,
        save=args.save, name=args.name, timeout_seconds=args.timeout,
    )
    r = made.record
    print(f"start state {made.name!r}: {r['course_name']} ({r['course']}), character {r['character']}, kart {r['kart']}, "
          f"{r['backend']} ({r['core']})")
    print(f"  {made.path}\n  {made.sidecar}")
    print(f"use it with: emurl.make(\"{r['game']}\", state=\"{made.name}\", backend=\"{r['backend']}\")")
    return 0


def _import_rom(args) -> int:
    info = import_rom(args.path)
    print(f"imported {info.title} {info.game_code} ({info.region}) -> {info.path}")
    return 0


def _courses(args) -> int:
    print(f"{'order':>5}  {'abbr':<5} {'id':>3}  {'cup':<10} name")
    for c in COURSES:
        print(f"{c.order:>5}  {c.abbr:<5} {c.internal_id:>3}  {c.cup_name:<10} {c.name}")
    return 0


def _check(args) -> int:
    report = check_game(
        args.rom, seconds=args.seconds, backend=args.backend, save=args.save, course=args.course or "f8c",
        state=args.state, live=not args.no_live,
    )
    return 0 if report.ok else 1


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``emurl games check`` / ``emurl mkds check`` (all optional)."""
    p.add_argument("--rom", help="the .nds file (default: the imported ROM)")
    p.add_argument("--seconds", type=float, default=5.0, help="game seconds of driving judged after the countdown [default 5]")
    p.add_argument("--backend", choices=DS_BACKENDS, default="desmume", help="emulator [default desmume]")
    p.add_argument("--save", help="all-unlocked save for the menus (default: 100percent.sav, see README)")
    p.add_argument("--course", help="the course the menus pick [default: Mario Kart DS f8c, Super Mario Kart MarioCircuit1]")
    p.add_argument("--state", help="start from this start state instead of driving the menus")
    p.add_argument("--no-live", action="store_true", help="no live table, only the summary")


def games_check(args) -> int:
    """``emurl games check GAME``: Mario Kart DS and Super Mario Kart have a check.

    Raises:
        EmurlError: another game.
    """
    game = canonical_name(args.game)
    if game == SMK_GAME:
        report = smk_check_game(args.rom, seconds=args.seconds, course=args.course or "MarioCircuit1", state=args.state)
        return 0 if report.ok else 1
    if game != GAME:
        raise EmurlError(f"`emurl games check` knows {GAME} and {SMK_GAME}, not {args.game!r}")
    return _check(args)


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``emurl mkds ...`` to the parser's sub-commands (``parser.add_subparsers()``'s result)."""
    mkds = subparsers.add_parser("mkds", help="Mario Kart DS: import the ROM, make start states, check the memory map")
    sub = mkds.add_subparsers(dest="mkds_verb", required=True)

    p = sub.add_parser("start-state", help="drive the menus to a Time Trial and save a start state at race frame 1")
    p.add_argument("--rom", required=True, help="the .nds file (game code AMCE, AMCP or AMCJ)")
    p.add_argument("--course", required=True, help="course abbreviation or name, e.g. yf (see `emurl mkds courses`)")
    p.add_argument("--character", type=int, default=0, help="character id 0-11 [default 0]")
    p.add_argument("--kart", type=int, default=0, help="kart id 0-35 [default 0]")
    p.add_argument("--backend", choices=DS_BACKENDS, default="desmume", help="emulator [default desmume]")
    p.add_argument("--save", help="save with every course unlocked (default: 100percent.sav, see README)")
    p.add_argument("--name", help="state name [default: the course abbreviation, e.g. yf]")
    p.add_argument("--timeout", type=float, default=60.0, help="game seconds allowed for the race to start [default 60]")
    p.set_defaults(func=_start_state)

    p = sub.add_parser("import-rom", help="check a ROM's game code and copy it into the data folder")
    p.add_argument("path", help="the .nds file")
    p.set_defaults(func=_import_rom)

    p = sub.add_parser("courses", help="the 32 courses: menu order, abbreviation, internal id, cup, name")
    p.set_defaults(func=_courses)

    p = sub.add_parser("check", help="reach a race, show every variable live, say which look wrong")
    add_check_arguments(p)
    p.set_defaults(func=_check)
    return mkds


__all__ = ["add_check_arguments", "games_check", "register"]
