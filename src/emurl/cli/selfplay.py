"""``emurl selfplay``, ``emurl league`` and ``emurl match``: two-player self-play runs, their
round robin, and one game between two of their players.

The learner and the league load PyTorch: imported inside the verbs (see :mod:`emurl.cli.train`).
"""

from __future__ import annotations


from emurl.cli.common import add_run_flags, config_overrides
from emurl.cli.watch import show_when_known
from emurl.train.config import build_config


def _selfplay(args) -> int:
    from emurl.train.run import train  # lazy: PyTorch + Stable-Baselines3, 1.2-1.7 s

    overrides = config_overrides(args)
    if args.resume:
        run_dir = train(resume=args.resume, overrides=overrides, config_file=args.config,
                        progress_bar=not args.no_progress, on_run_folder=show_when_known(args.show))
    else:
        cfg = build_config(args.game, args.config, {**overrides, "selfplay": True}, kind="selfplay")
        print(f"self-play: {cfg.algo} on {cfg.game} for {cfg.total_steps} steps with {cfg.num_envs} envs "
              f"(seats alternate by env), pool of {cfg.pool_size} snapshots every {cfg.snapshot_every} steps, "
              f"anchors {', '.join(cfg.pool_anchors) or 'none'}")
        run_dir = train(cfg, progress_bar=not args.no_progress, on_run_folder=show_when_known(args.show))
    print(f"run folder: {run_dir}\nleague: emurl league {run_dir}")
    return 0


def _league(args) -> int:
    from emurl.train.evaluate import load_run_config  # lazy: PyTorch
    from emurl.train.selfplay.league import run_league

    spec = load_run_config(args.run).env
    table = run_league(args.run, spec, games=args.games, players=args.players, num_proc=args.num_proc, seed=args.seed,
                       progress=None if args.no_progress else
                       lambda i, n: print(f"\rgames {i}/{n}", end="\n" if i == n else "", flush=True))
    for p in sorted(table["players"], key=lambda p: -p["rating"]):
        print(f"{p['id']:>20}  rating {p['rating']:7.1f}  steps {p['steps']}")
    print(f"wrote {args.run}/league.json and league.png")
    return 0


def _match(args) -> int:
    from emurl.movies.replay import write_video
    from emurl.train.evaluate import load_run_config  # lazy: PyTorch
    from emurl.train.selfplay.league import resolve_players
    from emurl.train.selfplay.match import Match

    known = resolve_players(args.run, [args.player1, args.player2])
    spec = load_run_config(args.run).env
    match = Match(spec, render=bool(args.video))
    try:
        a, b = known[args.player1][0], known[args.player2][0]
        if args.video:
            n = write_video(match.frames(a, b, args.seed), args.video, fps=60)
            print(f"wrote {args.video} ({n} frames)")
        else:
            match.play(a, b, args.seed)
    finally:
        match.close()
    print(f"{args.player1} (player 1) vs {args.player2} (player 2), seed {args.seed}: player 1's {match.end}")
    return 0


def register(subparsers) -> None:
    """Add ``selfplay``, ``league`` and ``match`` to an argparse sub-parser collection."""
    p = subparsers.add_parser("selfplay", help="train a two-player game by self-play against an opponent pool")
    p.add_argument("--game", default=None, help="integration name (e.g. MiniDoc-Nes, whose preset this uses)")
    p.add_argument("--config", help="YAML file of settings")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a self-play run (its pool too)")
    add_run_flags(p)
    p.set_defaults(func=_selfplay)

    p = subparsers.add_parser("league", help="round robin of a self-play run's snapshots and anchors; league.json/png")
    p.add_argument("run", help="self-play run folder")
    p.add_argument("--games", type=int, default=20, help="games per pair (seats swapped every other game)")
    p.add_argument("--players", nargs="+", help="ids (default: all: random, greedy, snapshot_<steps>..., final) or "
                   "checkpoint files of other runs (e.g. RUN2/checkpoints/latest.zip), to play head to head")
    p.add_argument("--num-proc", type=int, default=2, help="worker processes, one emulator each")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_league)

    p = subparsers.add_parser("match", help="one game between two players of a self-play run, optionally as a video")
    p.add_argument("run", help="self-play run folder")
    p.add_argument("player1", help="player 1: random, greedy, snapshot_<steps>, final or a checkpoint file (.zip)")
    p.add_argument("player2", help="player 2")
    p.add_argument("--seed", type=int, default=0, help="the virus layout")
    p.add_argument("--video", metavar="FILE.mp4", help="write the game as a video")
    p.set_defaults(func=_match)


__all__ = ["register"]
