"""``emurl distill``: a policy distilled into a decision tree a 6502 can run (issue 17, phase 2).

The loop and the closed-loop games load PyTorch for a policy teacher: imported inside the
verb (see :mod:`emurl.cli.train`).
"""

from __future__ import annotations

from emurl.errors import ConfigError


def _distill(args) -> int:
    from emurl.train.distill.run import distill  # lazy: scikit-learn + the env stack, ~1 s

    if args.to != "tree":
        raise ConfigError(f"--to {args.to}: only 'tree' is known")
    report = distill(args.run, teacher=args.teacher, max_depth=args.max_depth or None,
                     max_leaf_nodes=args.max_leaf_nodes, rounds=args.rounds, states=args.states,
                     held_out_states=args.held_out, games=args.games, game=args.game, seed=args.seed,
                     progress=None if args.no_progress else print)
    agree = report["held_out"]
    print(f"teacher {report['teacher']}: agreement {agree['agreement']:.3f} on {agree['states']} held-out states "
          f"(majority baseline {agree['majority_baseline']:.3f}); {report['nodes']} nodes, depth {report['depth']}, "
          f"{report['bytes']} bytes of 6502 code")
    for opp, r in report["closed_loop"].items():
        t, te = r["tree"], r["teacher"]
        print(f"vs {opp}: tree {t['rate']:.3f} [{t['wilson95'][0]:.3f}, {t['wilson95'][1]:.3f}], teacher {te['rate']:.3f} "
              f"[{te['wilson95'][0]:.3f}, {te['wilson95'][1]:.3f}] over {t['games']} games")
    print(f"wrote {args.run}/distill.json and {args.run}/distill/ (tree.json, tree.c, tree.s)")
    return 0


def register(subparsers) -> None:
    """Add ``distill`` to an argparse sub-parser collection."""
    p = subparsers.add_parser("distill", help="distil a policy (or the rule-based player) into a 6502-sized decision tree")
    p.add_argument("run", help="a self-play run folder (its policy is the teacher); with --teacher greedy any folder, "
                   "made if missing")
    p.add_argument("--to", default="tree", choices=["tree"], help="what to distil into (default: tree)")
    p.add_argument("--teacher", default=None,
                   help="greedy (the rule-based player), a run folder or a policy zip (default: RUN's latest.zip)")
    p.add_argument("--max-depth", type=int, default=8, help="the tree's depth limit (0: none; default 8)")
    p.add_argument("--max-leaf-nodes", type=int, default=None, help="the tree's leaf limit (default: none)")
    p.add_argument("--rounds", type=int, default=4, help="DAgger rounds: the teacher's rollouts, then the student's")
    p.add_argument("--states", type=int, default=400, help="states (capsules) labelled per round")
    p.add_argument("--held-out", type=int, default=400, help="held-out states for the agreement")
    p.add_argument("--games", type=int, default=40, help="closed-loop games per opponent, for the tree and the teacher")
    p.add_argument("--game", default=None, help="the game when RUN holds no run (default MiniDoc-Nes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true", help="print only the summary")
    p.set_defaults(func=_distill)
