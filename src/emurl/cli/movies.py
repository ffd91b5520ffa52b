"""``emurl replay``, ``emurl convert`` and ``emurl mkds ghosts``: the movie verbs of the command line.

``emurl replay`` plays an evaluation episode's movie (``runs/<run>/movies/eval_*.emv``)
through the env it was played in and says whether return, length, last screen and RAM
are the recorded ones (exit status 1 when not); any other movie frame by frame.

``register(subparsers)`` adds them to the main parser (``emurl.cli.build_parser``).
Handlers return an exit code; errors are :class:`~emurl.errors.EmurlError` subclasses.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from emurl.errors import EmurlError
from emurl.games import load_integration
from emurl.games.integration import sha1_of_rom
from emurl.imitation.episodes import EpisodeReplay, is_episode, mismatches
from emurl.movies import load_movie, save_movie
from emurl.movies.dsm import write_dsm
from emurl.movies.mkds_ghosts import RACE_LOAD_FRAMES, read_ghosts
from emurl.movies.power_on import power_on_movie
from emurl.movies.replay import replay, start_state_bytes, write_video


def _rom_for(movie, args) -> str:
    """The ROM to replay on: ``--rom``, else the movie's game integration's ROM."""
    if args.rom:
        if not os.path.isfile(args.rom):
            raise EmurlError(f"--rom {args.rom}: no such file")
        return args.rom
    if not movie.game:
        raise EmurlError(f"{args.movie}: the movie names no game integration; give the ROM with --rom PATH")
    return load_integration(movie.game, args.game_path).require_rom()


def _replay_episode(movie, args) -> int:
    """An evaluation episode's movie through its env: the return, and whether all is as recorded."""
    with EpisodeReplay(movie, args.backend, args.game_path) as rep:
        if args.video:
            n = write_video((s for _, s in rep), args.video, rep.fps)
            print(f"wrote {n} frames (one per agent step, as the evaluation's video) -> {args.video}")
        else:
            for _ in rep:
                pass
    r = rep.result
    print(f"replayed {args.movie} through its env: return {r.episode_return:g}, length {r.length} steps, "
          f"{r.frames} frames")
    wrong = mismatches(movie, r)
    if wrong:
        print("differs from the recorded episode:\n  " + "\n  ".join(wrong))
        return 1
    print(f"same as the recorded episode: return {movie.metadata['return']:g}, length {movie.metadata['length']}, "
          "last screen and RAM identical")
    return 0


def _replay(args) -> int:
    movie = load_movie(args.movie)
    rom = _rom_for(movie, args)
    if movie.rom_sha1 and sha1_of_rom(rom) != movie.rom_sha1:
        print(f"warning: {rom} is not the ROM the movie was made on (SHA-1 {movie.rom_sha1}); it may desync")
    if is_episode(movie) and not args.frames and not args.rom:
        return _replay_episode(movie, args)
    frames = replay(movie, rom, game_path=args.game_path, backend=args.backend)
    if args.video:
        n = write_video((s for _, s in frames), args.video, movie.frame_rate)
        print(f"replayed {n} frames of {args.movie} -> {args.video}")
    else:
        n = sum(1 for _ in frames)
        print(f"replayed {n} frames of {args.movie}")
    return 0


def _convert(args) -> int:
    movie = load_movie(args.movie)
    if os.path.splitext(args.out)[1].lower() == ".dsm" and movie.start_state is not None:
        # a .dsm plays from power-on: the input script that made the start state comes first
        movie = power_on_movie(movie, args.game_path)
        print(f"from power-on: {movie.metadata['power_on']['script_frames']} frames of state "
              f"{movie.metadata['power_on']['state']}'s input script, then the movie's")
    if os.path.splitext(args.out)[1].lower() == ".bk2" and isinstance(movie.start_state, str):
        # stable-retro's .bk2 holds the start state's bytes (Core.bin), not a name
        movie.start_state = start_state_bytes(movie, "retro", args.game_path)
    save_movie(movie, args.out)
    print(f"{args.movie} ({movie.frames} frames, {movie.players} player(s)) -> {args.out}")
    return 0


def _mkds_ghosts(args) -> int:
    slots = read_ghosts(args.save)
    sram = None
    out = Path(args.out) if args.out else None
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise EmurlError(f"--out {out}: is a file (or lies in one); expected a folder for the movies") from None
        except OSError as exc:
            raise EmurlError(f"--out {out}: cannot make the folder: {exc.strerror}") from None
        menu_save = args.menu_save or args.save
        try:
            sram = Path(menu_save).read_bytes()
        except OSError as exc:
            raise EmurlError(f"--menu-save {menu_save}: cannot read: {exc.strerror}") from None
    print(f"{'slot':>4}  {'course':<28} {'character':<12} {'kart':>4} {'frames':>6}  status")
    written = 0
    for s in slots:
        course = f"{s.course.abbr:<5} {s.course.name}"
        if s.status == "ok":
            g = s.ghost
            status = "ok"
            if out is not None:
                stem = out / f"{s.slot:02d}_{s.course.abbr}"
                g.to_movie().save(stem.with_suffix(".emv"))
                write_dsm(g.power_on_movie(sram, args.race_load_frames or RACE_LOAD_FRAMES), stem.with_suffix(".dsm"),
                          comment=f"emurl: MKDS ghost slot {s.slot} {s.course.name}; menu timing unverified")
                written += 1
            print(f"{s.slot:>4}  {course:<28} {g.character_name:<12} {g.kart:>4} {g.frames:>6}  {status}")
        else:
            status = "empty" if s.status == "empty" else f"error: {s.error}"
            print(f"{s.slot:>4}  {course:<28} {'-':<12} {'-':>4} {'-':>6}  {status}")
    counts = {k: sum(1 for s in slots if s.status == k) for k in ("ok", "empty", "error")}
    print(f"{counts['ok']} ghost(s), {counts['empty']} empty slot(s), {counts['error']} damaged slot(s)")
    if out is not None:
        print(f"wrote {written} .emv and {written} .dsm file(s) to {out}")
    return 0


def _mkds_subparsers(subparsers):
    """The sub-commands of ``emurl mkds``: the existing ``mkds`` parser's (added by
    ``emurl.cli.mkds.register``), else a new ``mkds`` parser's."""
    mk = subparsers.choices.get("mkds")
    if mk is None:
        mk = subparsers.add_parser("mkds", help="Mario Kart DS tools")
    for action in mk._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return mk.add_subparsers(dest="mkds_verb", required=True)


def register(subparsers) -> None:
    """Add ``replay``, ``convert`` and ``mkds ghosts`` to an argparse sub-parser collection
    (``parser.add_subparsers()``'s result). Call it after ``emurl.cli.mkds.register``,
    which adds the ``mkds`` parser that ``ghosts`` then joins (argparse refuses a second
    ``mkds``); alone, it adds ``mkds`` itself."""
    p = subparsers.add_parser("replay", help="replay an input movie (.emv, .bk2, .dsm), optionally to a video")
    p.add_argument("movie", help="the movie file (.emv, .bk2 or .dsm)")
    p.add_argument("--video", metavar="OUT.mp4", help="write every frame to this video file (an evaluation "
                                                     "episode's: one per agent step, as its evaluation video)")
    p.add_argument("--rom", help="the ROM to run (default: the ROM of the movie's game integration; "
                                 "given, an evaluation episode replays as with --frames)")
    p.add_argument("--backend", default=None, help="emulator backend (default: the movie's, else the system's)")
    p.add_argument("--game-path", help="extra integration folders")
    p.add_argument("--frames", action="store_true",
                   help="an evaluation episode's movie: replay its frames on the bare emulator (every frame to "
                        "--video) instead of through its env (the return checked, one frame per agent step)")
    p.set_defaults(func=_replay)

    p = subparsers.add_parser("convert", help="convert an input movie between .emv, .bk2 (stable-retro, BizHawk) "
                                              "and .dsm (DeSmuME), by extension")
    p.add_argument("movie", help="the movie file (.emv, .bk2 or .dsm)")
    p.add_argument("out", help="the movie to write (.emv, .bk2 or .dsm); a .dsm starts from power-on, so a movie "
                               "from one of the game's start states (an evaluation episode) gets the input script "
                               "that made the state in front of it")
    p.add_argument("--game-path", help="extra integration folders (to find a named start state)")
    p.set_defaults(func=_convert)

    msub = _mkds_subparsers(subparsers)
    g = msub.add_parser("ghosts", help="list the Time Trial ghosts of a save file; --out writes them as movies")
    g.add_argument("save", help="the Mario Kart DS save file (.sav)")
    g.add_argument("--out", metavar="DIR", help="write <slot>_<course>.emv (from the race-start state) and .dsm "
                                                "(from power-on through the menus) per valid ghost")
    g.add_argument("--menu-save", metavar="SAV", help="cartridge save the .dsm starts from (default: SAVE itself); "
                                                      "it must unlock the ghost's course, character and kart")
    g.add_argument("--race-load-frames", type=int, default=None,
                   help="frames from the last menu press to race start in the .dsm (an unverified estimate by default)")
    g.set_defaults(func=_mkds_ghosts)


__all__ = ["register"]
