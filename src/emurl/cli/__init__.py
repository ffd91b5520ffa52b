"""``emurl <verb>``: games, roms, train, eval, bench, replay, mkds, play, dataset, bc."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from emurl.errors import EmurlError


def _games_list(args) -> int:
    from emurl.games import list_games

    for name in list_games(args.game_path, playable=args.playable):
        print(name)
    return 0


def _games_show(args) -> int:
    from emurl.games import load_integration

    integ = load_integration(args.game, args.game_path)
    print(f"{integ.name}  ({integ.source}: {integ.folder})")
    print(f"system: {integ.system}")
    print(f"ROM: {integ.rom_status()}")
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
        from emurl.games.ale_actions import minimal_action_set

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
    from emurl.states.roms import ale_py_rom_dir, import_roms

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


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    from emurl.train.config import TrainConfig, field_docs

    docs = field_docs()
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.name in ("game", "algo"):
            continue
        p.add_argument(flag, dest=f.name, default=None, metavar=f.name.upper(), help=f"{docs.get(f.name, '')} [default {f.default}]")


def parse_set(items) -> dict:
    """``--set KEY=VALUE`` arguments as a dict of overrides (values stay strings: the
    config parses them)."""
    overrides = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise EmurlError(f"--set {item!r}: expected KEY=VALUE")
        overrides[key] = value
    return overrides


def _train(args) -> int:
    from emurl.train.config import TrainConfig, build_config
    from emurl.train.run import train

    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name, None) is not None}
    overrides.update(parse_set(args.set))
    if args.resume:
        overrides.pop("game", None)
        run_dir = train(resume=args.resume, overrides=overrides, progress_bar=not args.no_progress)
    else:
        cfg = build_config(args.game, args.config, overrides)
        print(f"training {cfg.algo} on {cfg.game} for {cfg.total_steps} steps with {cfg.num_envs} envs")
        run_dir = train(cfg, init_from=args.init_from, progress_bar=not args.no_progress)
    print(f"run folder: {run_dir}")
    return 0


def _eval(args) -> int:
    from emurl.train.run import evaluate

    det = True if args.deterministic else (False if args.stochastic else None)
    res = evaluate(
        args.target, episodes=args.episodes, video=args.video, deterministic=det, backend=args.backend,
        progress=lambda ep, r, n: print(f"episode {ep + 1}: return {r:g}, length {n}"),
    )
    print(
        f"return {res['mean_return']:.2f} ± {res['std_return']:.2f}, "
        f"length {res['mean_length']:.1f} ± {res['std_length']:.1f} over {res['episodes']} episodes"
        + (f", success {sum(res['successes'])}/{res['episodes']}" if "successes" in res else "")
    )
    return 0


def _bench(args) -> int:
    from emurl.bench import format_table, run_bench

    res = run_bench(args.game, seconds=args.seconds)
    print(json.dumps(res) if args.json else format_table(res))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emurl", description="Train agents to play console games through real emulators.")
    sub = parser.add_subparsers(dest="verb", required=True)

    games = sub.add_parser("games", help="list and inspect game integrations")
    gsub = games.add_subparsers(dest="games_verb", required=True)
    p = gsub.add_parser("list", help="names of all integrations")
    p.add_argument("--playable", action="store_true", help="only games whose ROM is found")
    p.add_argument("--game-path", help="extra integration folders")
    p.set_defaults(func=_games_list)
    p = gsub.add_parser("show", help="variables, states, action sets and ROM status of a game")
    p.add_argument("game")
    p.add_argument("--game-path", help="extra integration folders")
    p.set_defaults(func=_games_show)
    from emurl.cli.mkds import add_check_arguments, games_check

    p = gsub.add_parser("check", help="check a game's memory map on your ROM: reach a race, show the variables live")
    p.add_argument("game")
    add_check_arguments(p)
    p.set_defaults(func=games_check)

    roms = sub.add_parser("roms", help="import ROMs")
    rsub = roms.add_subparsers(dest="roms_verb", required=True)
    p = rsub.add_parser("import", help="recognise ROMs by SHA-1 and copy them into the data folder")
    p.add_argument("paths", nargs="*", help="ROM files or folders (searched recursively)")
    p.add_argument("--from", dest="source", help="'ale-py': the Atari 2600 ROMs that ale-py bundles")
    p.add_argument("--game-path", help="extra integration folders")
    p.set_defaults(func=_roms_import)

    p = sub.add_parser("train", help="train PPO or DQN; makes runs/<game>__<algo>__<seed>__<time>/")
    p.add_argument("--game", default=None, help="integration name (default Airstriker-Genesis)")
    p.add_argument("--algo", default=None, choices=["ppo", "dqn"])
    p.add_argument("--config", help="YAML file of settings")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its latest checkpoint")
    p.add_argument("--init-from", metavar="CHECKPOINT", help="start from a checkpoint's policy weights")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any setting, repeatable")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_config_flags(p)
    p.set_defaults(func=_train)

    p = sub.add_parser("eval", help="evaluate a run folder or checkpoint; writes eval.json")
    p.add_argument("target", help="run folder or checkpoint .zip")
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--video", action="store_true", help="write videos/eval_final.mp4 of the first episode")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--deterministic", action="store_true", help="most likely action")
    g.add_argument("--stochastic", action="store_true", help="sample actions")
    p.add_argument("--backend", help="emulator backend to evaluate on (default: the run's), "
                   "e.g. melonds for a policy trained on desmume")
    p.set_defaults(func=_eval)

    p = sub.add_parser("bench", help="emulator, env, peer-stack and vector env speed, in one run")
    p.add_argument("--game", default="Airstriker-Genesis")
    p.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_bench)

    from emurl.cli import learn as cli_learn, movies as cli_movies
    from emurl.cli import mkds as mkds_cli

    mkds_cli.register(sub)  # before cli_movies: it adds `ghosts` to the same `mkds` verb
    cli_movies.register(sub)
    cli_learn.register(sub)  # play, dataset record, bc
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except (EmurlError, FileNotFoundError) as exc:
        print(f"emurl: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
