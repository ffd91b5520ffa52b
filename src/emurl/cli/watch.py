"""``emurl watch``: a live window tiling the screens of the workers that publish frames
(``emurl train --show N``, ``emurl neat --show N``, ``emurl eval --show``, ``emurl selfplay --show N``).

pygame-ce (~0.1 s to import) and ``emurl.vector`` (which loads Stable-Baselines3 and PyTorch,
1.9 s measured with ``python -X importtime -c "import emurl.vector"``) are imported inside the
functions: ``emurl --help`` and the light verbs load neither.
"""

from __future__ import annotations

import os
import shlex

from emurl.errors import ConfigError


def show(job: str, tiles: int | None = None, workers: int | None = None, publish: bool = True) -> str:
    """Print the ``emurl watch`` command that shows ``job``: its first ``tiles``, or its env
    workers ``0 .. workers-1`` (the others publish nothing while not watched); with
    ``publish``, make the worker processes started from now on publish as ``job`` (they
    inherit ``$EMURL_FRAMES_JOB``). ``job`` may hold shell wildcards (a NEAT run, whose
    folder name is made later, publishes by its own setting). Returns the command.

    Raises:
        ConfigError: N < 1.
    """
    from emurl.vector.frames import JOB_ENV  # lazy: emurl.vector loads Stable-Baselines3 and PyTorch, 1.9 s

    n = tiles if tiles is not None else workers
    if n is not None and n < 1:
        raise ConfigError(f"--show must be >= 1, got {n}")
    if publish:
        os.environ[JOB_ENV] = job
    command = f"emurl watch {shlex.quote(job)}"
    if workers is not None:
        command += " --workers " + ",".join(str(i) for i in range(workers))
    elif tiles is not None:
        command += f" --tiles {tiles}"
    print(f"watch it live: {command}", flush=True)
    return command


def show_when_known(n: int | None):
    """``--show N``: the ``on_run_folder`` hook of :func:`emurl.train.run.train` that, once
    the run folder is known, makes env workers ``0 .. min(N, num_envs) - 1`` publish as the
    folder's name and prints the ``emurl watch`` command (None: no ``--show``).

    Raises:
        ConfigError: N < 1.
    """
    if not n:
        return None
    if n < 1:
        raise ConfigError(f"--show must be >= 1, got {n}")
    return lambda run_dir, cfg: show(run_dir.name, workers=min(n, cfg.num_envs))


def _workers(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [w.strip() for w in text.split(",") if w.strip()]


def _watch(args) -> int:
    from emurl.watch.overlays import parse_layers
    from emurl.watch.viewer import run_viewer  # lazy: pygame-ce (module docstring)

    if args.fps < 0 or (args.frames is not None and args.frames < 1) or (args.tiles is not None and args.tiles < 1):
        raise ConfigError("emurl watch: --fps must be >= 0, --frames and --tiles >= 1")
    if args.scale is not None and not 0 < args.scale <= 8:
        raise ConfigError("emurl watch: --scale must be in (0, 8]")
    stats = run_viewer(args.job, _workers(args.workers), args.tiles, parse_layers(args.overlays), args.fps,
                       args.scale, args.screenshot, args.frames)
    print(f"drew {stats.frames} frames of {stats.tiles} tiles in {stats.seconds:.1f} s ({stats.fps:.1f} frames/s)")
    return 0


def register(subparsers) -> None:
    """Add ``watch`` to an argparse sub-parser collection."""
    p = subparsers.add_parser("watch", help="live tiled view of the workers publishing frames (train/neat/eval/"
                              "selfplay --show)",
                              description="A window tiling the live screens of the workers that publish frames "
                              "(emurl.vector.frames): each tile labelled with its worker, episode or genome, return "
                              "or fitness so far and the buttons pressed; a dead worker is shown as such. Keys: 1-6 "
                              "toggle the overlays rays, checkpoint, vars, buttons, walls, placement; S screenshot; Q quit. Without a "
                              "display: SDL_VIDEODRIVER=dummy with --frames and --screenshot.")
    p.add_argument("job", nargs="?", default=None,
                   help="the job to show (the name `--show` prints; shell wildcards allowed); default: every job")
    p.add_argument("--workers", metavar="W,W,...", help="only these workers (their names: 0,1,... for env workers)")
    p.add_argument("--tiles", type=int, metavar="N", help="show at most N tiles (the first workers)")
    p.add_argument("--overlays", metavar="LAYER,...", default="",
                   help="overlays on at the start: rays, checkpoint, vars, buttons, walls, placement, or all "
                        "(keys 1-6 toggle them)")
    p.add_argument("--fps", type=float, default=30, help="frames drawn per second at most (0: unlimited) [30]")
    p.add_argument("--scale", type=float, help="tile scale (default: as large as fits 1920x1080, at most 3)")
    p.add_argument("--screenshot", metavar="FILE.png", help="write the view to FILE.png at the end (and on S)")
    p.add_argument("--frames", type=int, metavar="N", help="stop after N frames")
    p.set_defaults(func=_watch)


__all__ = ["register", "show", "show_when_known"]
