"""``emurl neat``: evolve a NEAT population on emulators (neat-python), locally or on Ray.

``emurl.train.neat`` is imported inside the verb: ``import neat`` alone takes ~0.2 s and
the run loads PyTorch (TensorBoard's writer), 1.2-1.7 s, which every other verb would pay.
"""

from __future__ import annotations

from pathlib import Path

from emurl.cli.common import parse_set
from emurl.cli.watch import show


def _neat(args) -> int:
    from emurl.train.neat.config import build_config  # lazy: neat-python, ~0.2 s (module docstring)
    from emurl.train.neat.run import run  # lazy: PyTorch for TensorBoard, 1.2-1.7 s (module docstring)

    overrides = parse_set(args.set)
    for key in ("generations", "num_proc", "seed", "runs_dir", "ray", "pop"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    if args.no_video:
        overrides["video"] = "false"
    if args.watch or args.show:
        overrides["watch"] = "true"
    if args.resume:
        if args.show:
            show(Path(args.resume).resolve().name, tiles=args.show, publish=False)
        run_dir = run(resume=args.resume, overrides=overrides, progress=not args.no_progress)
    else:
        cfg, parser = build_config(args.game, args.config, overrides)
        pop = parser.get("NEAT", "pop_size")
        where = f"Ray ({cfg.ray})" if cfg.ray else "local processes"
        print(f"NEAT on {cfg.game}: population {pop}, {cfg.generations} generations, {cfg.num_proc} workers on {where}, "
              f"inputs: {cfg.env.obs_type}")
        if args.show:  # the workers publish as the run's folder name, made later: its time part is a wildcard
            show(cfg.run_name(0).rsplit("__", 1)[0] + "__*", tiles=args.show, publish=False)
        run_dir = run(cfg, parser, progress=not args.no_progress)
    print(f"run folder: {run_dir}")
    return 0


def register(subparsers) -> None:
    """Add ``neat`` to an argparse sub-parser collection."""
    p = subparsers.add_parser("neat", help="evolve NEAT networks (neat-python); makes runs/<game>__neat__<seed>__<time>/",
                              description="Evolve a NEAT population: genome inputs = the env's features, outputs = "
                              "its actions (argmax) or buttons (threshold); fitness = the scenario's return or, for "
                              "racing games, checkpoint splits with a time bonus. Settings: src/emurl/configs/neat/"
                              "<Game>-<System>.ini (else default.ini), its [emurl] section, then these flags.")
    p.add_argument("--game", default=None, help="integration name")
    p.add_argument("--config", metavar="NEAT_INI", help="neat-python config file (with an optional [emurl] section) "
                   "instead of the game's preset")
    p.add_argument("--pop", type=int, help="population size (NEAT.pop_size)")
    p.add_argument("--generations", type=int, help="generations to evolve (in all, when resuming)")
    p.add_argument("--num-proc", type=int, dest="num_proc", help="evaluation workers, one emulator each [default 2]")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its latest checkpoint")
    p.add_argument("--runs-dir", dest="runs_dir", help="where run folders are made [default runs]")
    p.add_argument("--seed", type=int, help="seed of NEAT's random choices [default 0]")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-video", action="store_true", help="no video or movie of new best genomes")
    p.add_argument("--show", type=int, metavar="N", help="workers publish their screens for `emurl watch`, which "
                   "shows N of them (the command is printed; DS games then draw every frame: slower)")
    p.add_argument("--watch", action="store_true", help="the same as --show without a tile limit")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="any setting (env or run: frame_skip=8, fitness=splits) or neat.ini item (Section.key=value, "
                   "e.g. DefaultGenome.node_add_prob=0.2); repeatable")
    p.add_argument("--ray", nargs="?", const="auto", default=None, metavar="ADDRESS",
                   help="evaluate on a Ray cluster: ADDRESS (ray://host:10001 or host:6379), 'auto' (the running "
                   "cluster; the default without ADDRESS) or 'local' (start one here); see docs/neat.md")
    p.set_defaults(func=_neat)


__all__ = ["register"]
