"""``emurl play``: play a game in a window, record an input movie, save and load states."""

from __future__ import annotations

from emurl.emulators import resolve_backend
from emurl.emulators.ds import DS_BUTTONS
from emurl.emulators.retro import core_info
from emurl.games import load_integration
from emurl.play import check_players, format_keymap, play


def _state_arg(value: str | None) -> str | None:
    if value is None:
        return "default"
    return None if value.lower() in ("none", "power-on", "poweron") else value


def _pad_buttons(system: str) -> list:
    """The pad's buttons of ``system`` without opening an emulator (stable-retro's core description)."""
    if system == "NintendoDs":
        return list(DS_BUTTONS)
    return list(core_info(system)["buttons"])


def _play(args) -> int:
    if args.keys:
        integ = load_integration(args.game, args.game_path)
        check_players(integ, args.players)
        buttons = _pad_buttons(integ.system)
        backend = resolve_backend(integ.system, args.backend)
        print(format_keymap(integ.system, buttons, touch=integ.system == "NintendoDs" and backend == "desmume",
                            players=args.players))
        return 0
    res = play(args.game, state=_state_arg(args.state), record=args.record, backend=args.backend, scale=args.scale,
               fast=args.fast, game_path=args.game_path, slot=args.slot, players=args.players,
               max_frames=args.max_frames)
    print(f"played {res.frames} frames" + (f"; movie: {res.movie_path}" if res.movie_path else ""))
    return 0


def register(subparsers) -> None:
    """Add ``play`` to an argparse sub-parser collection (``parser.add_subparsers()``'s result)."""
    p = subparsers.add_parser("play", help="play a game in a window; record an input movie; save/load states")
    p.add_argument("game", help="integration name, e.g. Airstriker-Genesis")
    p.add_argument("--state", default=None, help="start state (default: the game's; 'none': power-on)")
    p.add_argument("--record", metavar="FILE", help="write the inputs to this movie (.emv, .bk2 or .dsm)")
    p.add_argument("--backend", default=None, help="emulator backend (retro; desmume or melonds for DS games)")
    p.add_argument("--scale", type=int, default=2, help="window scale (integer, default 2)")
    p.add_argument("--fast", action="store_true", help="don't throttle to the game's frame rate")
    p.add_argument("--slot", default="quicksave", help="state name F5 saves and F7 loads (default quicksave)")
    p.add_argument("--players", type=int, default=1, choices=(1, 2),
                   help="2: two people at one keyboard, for a two-player game (player 2 on T F G H, J K L, U I O, "
                        "5 6; --keys shows both maps); a movie records both players")
    p.add_argument("--keys", action="store_true", help="print the key map and exit (F1 shows it while playing)")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    p.add_argument("--game-path", help="extra integration folders")
    p.set_defaults(func=_play)


__all__ = ["register"]
