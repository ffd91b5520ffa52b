"""``emurl dataset record|info`` and ``emurl bc``: learning from people's input movies.

``register(subparsers)`` adds them to the main parser (``emurl.cli.build_parser``).
Handlers return an exit code; errors are :class:`~emurl.errors.EmurlError` subclasses
(or FileNotFoundError / FileExistsError), which ``emurl.cli.main`` prints.
``emurl.train.bc`` is imported inside ``bc``: it loads PyTorch and Stable-Baselines3
(1.7 s measured with ``emurl.train.run``, which it uses), which no other verb should pay.
"""

from __future__ import annotations

import argparse

from emurl.cli.common import parse_set
from emurl.errors import EmurlError
from emurl.imitation.datasets import load_dataset, summary
from emurl.imitation.movie_env import PIPELINES
from emurl.imitation.record import record_dataset


def _dataset_record(args) -> int:
    meta = record_dataset(
        args.movies, args.out, num_proc=args.num_proc, action_set=args.action_set, frame_skip=args.frame_skip,
        pipeline=args.pipeline, backend=args.backend, config=args.config, game_path=args.game_path,
        progress=not args.no_progress, compress=not args.no_compress,
    )
    print(summary(meta))
    print(f"dataset: {args.out} ({meta['seconds']:.1f} s)")
    return 0


def _dataset_info(args) -> int:
    ds = load_dataset(args.dataset)
    print(summary(ds.meta))
    for m in ds.meta.get("movies", []):  # load_dataset checked the types of the fields that are there
        print(f"  {m.get('path', '?')}: {m.get('steps', '?')} steps, {m.get('unmatched_frames', '?')} unmatched "
              f"frames, {m.get('mixed_steps', '?')} mixed steps{', terminated' if m.get('terminated') else ''}")
    return 0


def _bc(args) -> int:
    from emurl.train.bc import behaviour_clone  # lazy: PyTorch + Stable-Baselines3, 1.7 s (module docstring)

    if args.recurrent and not args.seq_len:
        raise EmurlError("--recurrent: give --seq-len N instead (the steps of truncated backpropagation, e.g. 32) "
                         "to clone into recurrent PPO's LSTM policy")
    if args.seq_len is not None and args.seq_len < 1:
        raise EmurlError(f"--seq-len {args.seq_len}: expected a whole number >= 1 (steps per sequence)")
    overrides = parse_set(args.set)
    res = behaviour_clone(
        args.dataset, args.out, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
        val_fraction=args.val_fraction, value_coef=args.value_coef, seed=args.seed,
        config=args.config, seq_len=args.seq_len,
        overrides=overrides, progress=not args.no_progress,
    )
    if res.run_dir is not None:
        print(f"run folder: {res.run_dir}")
        print(f"continue with {'recurrent PPO' if args.seq_len else 'PPO'}: emurl train --config "
              f"{res.run_dir / 'config.yaml'} --init-from {res.checkpoint}")
    return 0


def register(subparsers) -> None:
    """Add ``dataset`` (``record``, ``info``) and ``bc`` to an argparse sub-parser
    collection (``parser.add_subparsers()``'s result)."""
    ds = subparsers.add_parser("dataset", help="datasets of (observation, action) steps from input movies")
    dsub = ds.add_subparsers(dest="dataset_verb", required=True)
    p = dsub.add_parser("record", help="replay movies through an env pipeline into a dataset folder")
    p.add_argument("movies", nargs="+", help="movie files (.emv, .bk2, .dsm) or folders of them, of one game")
    p.add_argument("--out", required=True, metavar="DIR", help="the dataset folder to create (must not exist)")
    p.add_argument("--num-proc", type=int, default=1, help="worker processes, one emulator each (default 1)")
    p.add_argument("--action-set", default=None, help="discrete or a named action set (default: the config's)")
    p.add_argument("--frame-skip", type=int, default=None, help="frames per agent step (default: the config's, 4)")
    p.add_argument("--pipeline", default="atari", choices=PIPELINES,
                   help="atari: 84x84 gray, 4-frame stack (what emurl train sees); none: the screens")
    p.add_argument("--backend", default=None, help="emulator backend (default: each movie's)")
    p.add_argument("--config", help="training config YAML for the env settings (default: the game's preset)")
    p.add_argument("--game-path", help="extra integration folders")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-compress", action="store_true", help="store data.npz uncompressed (faster, ~20x larger)")
    p.set_defaults(func=_dataset_record)
    p = dsub.add_parser("info", help="what a dataset folder holds")
    p.add_argument("dataset", help="dataset folder")
    p.set_defaults(func=_dataset_info)

    p = subparsers.add_parser("bc", help="behaviour cloning: train emurl train's PPO (or recurrent PPO) policy on a "
                                         "dataset")
    p.add_argument("dataset", help="dataset folder (emurl dataset record)")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--out", metavar="RUN_DIR_OR_ZIP", help="run folder to create, or a .zip for the checkpoint "
                                                           "alone (default runs/<game>__bc__<seed>__<time>)")
    p.add_argument("--batch-size", type=int, default=64, help="steps per gradient step (with --seq-len: "
                   "batch-size // seq-len sequences, at least 1)")
    p.add_argument("--seq-len", type=int, default=None, metavar="N",
                   help="clone into recurrent PPO's LSTM policy (CnnLstmPolicy on pixels, MlpLstmPolicy on RAM) by "
                   "truncated backpropagation through sequences of N steps; emurl train --algo recurrent_ppo "
                   "--init-from continues it")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam step size")
    p.add_argument("--val-fraction", type=float, default=0.1, help="end of each episode held out (0-1)")
    p.add_argument("--value-coef", type=float, default=0.5, help="weight of the value head's fit to returns "
                   "(its squared error over the returns' variance)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", help="training config YAML (gamma, precision for PPO, ...) applied before the dataset's")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any training setting, repeatable")
    p.add_argument("--recurrent", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_bc)


__all__ = ["register"]
