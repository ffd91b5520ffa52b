"""``emurl bench``: emulator, env, peer-stack and vector env speed, as ratios in one run.

``emurl.bench`` is imported inside the verb: its peer stack is Stable-Baselines3's Atari
wrappers, which load PyTorch (1.7 s measured with ``emurl.train.run``), and no other verb
should pay for it.
"""

from __future__ import annotations

import json


def _bench(args) -> int:
    from emurl.bench import format_table, run_bench  # lazy: Stable-Baselines3 + PyTorch (module docstring)

    res = run_bench(args.game, seconds=args.seconds)
    print(json.dumps(res) if args.json else format_table(res))
    return 0


def register(subparsers) -> None:
    """Add ``bench`` to an argparse sub-parser collection (``parser.add_subparsers()``'s result)."""
    p = subparsers.add_parser("bench", help="emulator, env, peer-stack and vector env speed, in one run")
    p.add_argument("--game", default="Airstriker-Genesis")
    p.add_argument("--seconds", type=float, default=5.0, help="time per measurement")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_bench)


__all__ = ["register"]
