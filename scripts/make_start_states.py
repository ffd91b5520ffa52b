"""Make an integration's start states from power-on on each backend, from its ``start_states.json``.

    python scripts/make_start_states.py MiniKart-NintendoDs [--backend desmume melonds] [--states NAME...] [--out DIR]

Each (state, backend) runs in its own process (one emulator per process), drives the menus
with the input script, saves ``<name>.<backend>.state`` (gzip) and a ``.json`` stamp
(backend, core, ROM SHA-1, script). Default output: the integration's own folder (for the
states shipped with emurl); ``--out`` for elsewhere.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp

from emurl.games import load_integration
from emurl.states.scripts import load_scripts, make_start_state


def _one(args):
    game, name, backend, out = args
    integ = load_integration(game)
    made = make_start_state(integ, name, load_scripts(integ)[name], backend, out_dir=out or integ.folder)
    return str(made.path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("game")
    ap.add_argument("--backend", nargs="+", default=["desmume", "melonds"])
    ap.add_argument("--states", nargs="+", help="only these scripts (default: all)")
    ap.add_argument("--out", help="output folder (default: the integration folder)")
    args = ap.parse_args()
    scripts = load_scripts(load_integration(args.game))
    unknown = sorted(set(args.states or ()) - set(scripts))
    if unknown:
        raise SystemExit(f"{args.game}: no start-state script named {', '.join(unknown)} (scripts: {', '.join(scripts)})")
    names = args.states or list(scripts)
    jobs = [(args.game, n, b, args.out) for n in names for b in args.backend]
    ctx = mp.get_context("spawn")
    with ctx.Pool(2, maxtasksperchild=1) as pool:
        for path in pool.imap(_one, jobs):
            print(path)


if __name__ == "__main__":
    main()
