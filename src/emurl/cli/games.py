"""``emurl games list|show|check`` and ``emurl roms import``: game integrations and their ROMs."""

from __future__ import annotations

from emurl.cli.mkds import add_check_arguments, games_check
from emurl.errors import EmurlError
from emurl.games import list_games, load_integration
from emurl.games.ale_actions import minimal_action_set
from emurl.games.memory import addressing
from emurl.games.romsha import ALLOW_MISMATCH_ENV
from emurl.states.roms import ale_py_rom_dir, import_roms


def _games_list(args) -> int:
    for name in list_games(args.game_path, playable=args.playable):
        print(name)
    return 0


def _games_show(args) -> int:
    integ = load_integration(args.game, args.game_path)
    print(f"{integ.name}  ({integ.source}: {integ.folder})")
    print(f"system: {integ.system}")
    form = addressing(integ.variables.values(), integ.system)
    if form:
        print(f"addresses: {form}")
    print(f"players: {integ.players}")
    status = integ.rom_status()
    print(f"ROM: {status}")
    if status.startswith("found, SHA-1 does not match"):
        print(f"  (games refuse it: import a matching ROM with `emurl roms import DIR`, "
              f"or set {ALLOW_MISMATCH_ENV}=1 to run it anyway)")
    if integ.rom_shas:
        print(f"accepted SHA-1: {', '.join(integ.rom_shas)}")
    states = integ.states()
    default = integ.default_state
    print("states: " + (", ".join(f"{s}{' (default)' if s == default else ''}" for s in states) or "none"))
    print("scenarios: " + (", ".join(integ.scenarios()) or "none"))
    print("variables:")
    for v in integ.variables.values():
        extra = ""
        if v.pointer:
            extra += " via pointer " + " -> ".join(hex(o) for o in v.pointer)
        if v.scale:
            extra += f" / {v.scale:g}"
        print(f"  {v.name:<24} {hex(v.address):>10}  {v.dtype}{extra}")
    sets = dict(integ.action_sets)
    rom = integ.rom_path()
    if integ.system == "Atari2600" and rom:
        try:
            sets["minimal (ALE's)"] = minimal_action_set(rom, integ.name)
        except EmurlError:
            pass  # a ROM ALE does not know: no minimal action set
    if sets:
        print("action sets:")
        for name, combos in sets.items():
            print(f"  {name}: " + ", ".join("+".join(c) or "none" for c in combos))
    scen = integ.scenario()
    print("scenario: " + ("Lua script (run by stable-retro)" if scen.lua else "reward " + (", ".join(t.variable for t in scen.rewards[0]) or "none")))
    return 0


def _roms_import(args) -> int:
    paths = list(args.paths)
    if args.source == "ale-py":
        paths.append(str(ale_py_rom_dir()))
    elif args.source:
        raise EmurlError(f"--from {args.source!r}: the only bundled source is 'ale-py'")
    if not paths:
        raise EmurlError("give ROM files or folders to import, or --from ale-py")
    res = import_roms(paths, args.game_path, progress=lambda g, d: print(f"imported {g} -> {d}"))
    print(f"{len(res.imported)} ROM(s) imported, {len(res.unmatched)} file(s) matched no integration")
    return 0 if res.imported else 1


def register(subparsers) -> None:
    """Add ``games`` (``list``, ``show``, ``check``) and ``roms`` (``import``) to an argparse
    sub-parser collection (``parser.add_subparsers()``'s result)."""
    games = subparsers.add_parser("games", help="list and inspect game integrations")
    gsub = games.add_subparsers(dest="games_verb", required=True)
    p = gsub.add_parser("list", help="names of all integrations")
    p.add_argument("--playable", action="store_true", help="only games whose ROM is found")
    p.add_argument("--game-path", help="extra integration folders")
    p.set_defaults(func=_games_list)
    p = gsub.add_parser("show", help="variables, states, action sets and ROM status of a game")
    p.add_argument("game")
    p.add_argument("--game-path", help="extra integration folders")
    p.set_defaults(func=_games_show)
    p = gsub.add_parser("check", help="check a game's memory map on your ROM: reach a race, show the variables live")
    p.add_argument("game")
    add_check_arguments(p)
    p.set_defaults(func=games_check)

    roms = subparsers.add_parser("roms", help="import ROMs")
    rsub = roms.add_subparsers(dest="roms_verb", required=True)
    p = rsub.add_parser("import", help="recognise ROMs by SHA-1 and copy them into the data folder")
    p.add_argument("paths", nargs="*", help="ROM files or folders (searched recursively)")
    p.add_argument("--from", dest="source", help="'ale-py': the Atari 2600 ROMs that ale-py bundles")
    p.add_argument("--game-path", help="extra integration folders")
    p.set_defaults(func=_roms_import)


__all__ = ["register"]
