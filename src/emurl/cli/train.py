"""``emurl train`` and ``emurl eval``: reinforcement learning runs and their evaluation.

``emurl.train.run`` and ``emurl.train.evaluate`` are imported inside the verbs, not here:
they load PyTorch and Stable-Baselines3, 1.2-1.7 s measured (``import emurl.train.run``
after ``import emurl``), which every other verb (``emurl games list``, ...) would pay.
"""

from __future__ import annotations

from pathlib import Path

from emurl.cli.common import add_run_flags, config_overrides
from emurl.cli.watch import show, show_when_known
from emurl.envs.spec import OPPONENTS
from emurl.train.config import ALGOS, build_config


def _train(args) -> int:
    from emurl.train.run import train  # lazy: PyTorch + Stable-Baselines3, 1.2-1.7 s (module docstring)

    overrides = config_overrides(args)
    if args.resume:  # --game, --config and flags are checked against the run's own (train refuses a conflict)
        run_dir = train(resume=args.resume, overrides=overrides, init_from=args.init_from, config_file=args.config,
                        progress_bar=not args.no_progress, on_run_folder=show_when_known(args.show))
    else:
        cfg = build_config(args.game, args.config, overrides)
        print(f"training {cfg.algo} on {cfg.game} for {cfg.total_steps} steps with {cfg.num_envs} envs")
        run_dir = train(cfg, init_from=args.init_from, progress_bar=not args.no_progress,
                        on_run_folder=show_when_known(args.show))
    print(f"run folder: {run_dir}")
    return 0


def _eval(args) -> int:
    from emurl.train.evaluate import evaluate  # lazy: PyTorch + Stable-Baselines3, 1.2-1.7 s (module docstring)

    det = True if args.deterministic else (False if args.stochastic else None)
    if args.show:  # the evaluation env publishes its frames as eval__<run>
        target = Path(args.target).resolve()
        show(f"eval__{(target.parent.parent if target.parent.name == 'checkpoints' else target).name}")
    if (Path(args.target) / "neat.ini").is_file():  # a NEAT run folder: its best genome plays
        from emurl.train.neat.run import evaluate_neat_run  # lazy: neat-python + torch

        res = evaluate_neat_run(args.target, episodes=args.episodes, video=args.video)
    else:
        res = evaluate(
            args.target, episodes=args.episodes, video=args.video, deterministic=det, backend=args.backend,
            opponent=args.opponent,
            progress=lambda ep, r, n: print(f"episode {ep + 1}: return {r:g}, length {n}"),
        )
    print(
        f"return {res['mean_return']:.2f} ± {res['std_return']:.2f}, "
        f"length {res['mean_length']:.1f} ± {res['std_length']:.1f} over {res['episodes']} episodes"
        + (f", success {sum(res['successes'])}/{res['episodes']}" if "successes" in res else "")
        + (f", won {sum(res['wins'])}/{res['episodes']}" if "wins" in res else "")
    )
    kept = [e["movie"] for e in res.get("per_episode", ()) if "movie" in e]
    if kept:  # each episode's input movie, relative to the run folder
        print(f"input movies, one per episode (play one again with `emurl replay`): "
              f"{kept[0]}{' .. ' + kept[-1] if len(kept) > 1 else ''}")
    return 0


def register(subparsers) -> None:
    """Add ``train`` and ``eval`` to an argparse sub-parser collection (``parser.add_subparsers()``'s result)."""
    p = subparsers.add_parser("train", help="train PPO, A2C, DQN, MaskablePPO or recurrent PPO (--algo); makes "
                                          "runs/<game>__<algo>__<seed>__<time>/")
    p.add_argument("--game", default=None, help="integration name (default Airstriker-Genesis)")
    p.add_argument("--algo", default=None, choices=ALGOS)
    p.add_argument("--config", help="YAML file of settings")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its newest intact checkpoint; only "
                   "settings that keep the run's policy meaningful may change (total steps, learning rate, "
                   "evaluation and checkpoint cadence, ...)")
    p.add_argument("--init-from", metavar="CHECKPOINT", help="start from a checkpoint's policy weights")
    add_run_flags(p)
    p.set_defaults(func=_train)

    p = subparsers.add_parser("eval", help="evaluate a run folder or checkpoint; writes eval.json")
    p.add_argument("target", help="run folder or checkpoint .zip")
    p.add_argument("--episodes", type=int, default=10, help="episodes to play (>= 1)")
    p.add_argument("--video", action="store_true", help="write videos/eval_final.mp4 of the first episode")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--deterministic", action="store_true", help="most likely action")
    g.add_argument("--stochastic", action="store_true", help="sample actions")
    p.add_argument("--backend", help="emulator backend to evaluate on (default: the run's), "
                   "e.g. melonds for a policy trained on desmume")
    p.add_argument("--opponent", metavar="|".join(o for o in OPPONENTS if o) + "|CHECKPOINT.zip",
                   help="two-player runs: who plays the other seat (default: the run's), e.g. greedy after training "
                   "on random, or a policy checkpoint (another run's checkpoints/latest.zip)")
    p.add_argument("--show", action="store_true", help="publish the evaluation's screen for `emurl watch` "
                   "(it prints the command)")
    p.set_defaults(func=_eval)


__all__ = ["register"]
