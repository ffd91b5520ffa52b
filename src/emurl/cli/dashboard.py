"""``emurl dashboard``: a browser page of a runs folder (:mod:`emurl.watch.dashboard`).

``emurl.watch.dashboard`` is imported inside the verb: it loads Starlette, uvicorn,
matplotlib, TensorBoard's event reader and ``emurl.vector`` (Stable-Baselines3 and PyTorch),
~1.6 s that every other verb would pay.
"""

from __future__ import annotations


def _dashboard(args) -> int:
    from emurl.watch.dashboard import serve  # lazy: ~1.6 s of imports (module docstring)

    serve(args.runs_dir, host=args.host, port=args.port)
    return 0


def register(subparsers) -> None:
    """Add ``dashboard`` to an argparse sub-parser collection."""
    p = subparsers.add_parser(
        "dashboard", help="serve a browser page of a runs folder: runs, curves, videos, leagues, live workers",
        description="Serve a web page listing the runs of RUNS_DIR (game, algorithm, steps, best evaluation) with "
        "each run's curves, evaluation videos, league or NEAT statistics, and the live screens of the workers "
        "running on this machine (those started with --watch / --show). Serves only files inside RUNS_DIR.")
    p.add_argument("runs_dir", nargs="?", default="runs", metavar="RUNS_DIR", help="the runs folder [default runs]")
    p.add_argument("--port", type=int, default=6007, help="TCP port [default 6007; 0: any free port]")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on [default 127.0.0.1: this machine only; 0.0.0.0 lets anyone who "
                   "reaches this machine see the runs: there is no log-in]")
    p.set_defaults(func=_dashboard)
