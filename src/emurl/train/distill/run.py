"""``emurl distill``: distil a teacher into a tree, export it, measure it, write ``distill.json``."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from emurl.envs import EnvSpec
from emurl.errors import ConfigError
from emurl.train.distill.dagger import GREEDY, Teacher, agreement, dagger, held_out, save_data
from emurl.train.distill.export import FEATURES_BASE, write_exports
from emurl.train.distill.report import closed_loop, write_report
from emurl.wrappers.tree_features import TreeFeaturesInfo

DEFAULT_GAME = "MiniDoc-Nes"


def run_spec(run_dir: str | os.PathLike, game: str | None = None) -> EnvSpec:
    """The env settings of ``run_dir`` (its ``config.yaml``), else a placement spec of ``game``
    (default MiniDoc-Nes) for a folder that holds no run (e.g. distilling ``greedy``)."""
    if (Path(run_dir) / "config.yaml").is_file():
        from emurl.train.evaluate import load_run_config  # lazy: PyTorch (only for a run folder)
        spec = load_run_config(run_dir).env
        if spec.action_set != "placement":
            raise ConfigError(f"{run_dir}: distillation needs placement actions; the run's action_set is "
                              f"{spec.action_set!r}")
        return spec
    return EnvSpec(game=game or DEFAULT_GAME, obs_type="features", action_set="placement", frame_skip=1,
                   max_pool=False, opponent=GREEDY, max_episode_steps=400)


def teacher_path(run_dir: str | os.PathLike, teacher: str | None) -> str:
    """What :class:`~emurl.train.distill.dagger.Teacher` takes: ``"greedy"``, a zip, or a run
    folder's ``checkpoints/latest.zip`` (``teacher`` None: ``run_dir``'s).

    Raises:
        FileNotFoundError: no policy there.
    """
    if teacher == GREEDY:
        return GREEDY
    path = Path(teacher or run_dir)
    if path.is_dir():
        path = path / "checkpoints" / "latest.zip"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no policy to distil (give --teacher greedy, a run folder or a zip)")
    return str(path)


def distill(run_dir: str | os.PathLike, teacher: str | None = None, max_depth: int | None = 8,
            max_leaf_nodes: int | None = None, rounds: int = 4, states: int = 400, held_out_states: int = 400,
            games: int = 20, game: str | None = None, seed: int = 0, out_dir: str | os.PathLike | None = None,
            progress: Callable[[str], None] | None = None) -> dict:
    """Distil, export (``tree.json``, ``tree.c``, ``tree.s``), measure and write
    ``distill.json`` in ``out_dir`` (default ``run_dir/distill``); returns the report."""
    t0 = time.time()
    say = progress or (lambda s: None)
    spec = run_spec(run_dir, game)
    who = teacher_path(run_dir, teacher)
    out = Path(out_dir) if out_dir else Path(run_dir) / "distill"
    out.mkdir(parents=True, exist_ok=True)
    teach = Teacher(who)
    tree, data = dagger(spec, teach, rounds, states, max_depth, max_leaf_nodes, seed=seed, progress=say)
    tree.names = TreeFeaturesInfo.names
    tree.save(out / "tree.json")
    save_data(data, out / "dataset.npz")
    test = held_out(spec, teach, tree, held_out_states)
    save_data(test, out / "held_out.npz")
    agree = agreement(tree, test)
    say(f"held out: agreement {agree['agreement']:.3f} (majority baseline {agree['majority_baseline']:.3f})")
    exports = write_exports(tree, out, FEATURES_BASE)
    say(f"tree: {tree.n_nodes} nodes, depth {tree.depth}, {exports['bytes']} bytes of 6502 code")
    loop = closed_loop(spec, tree, who, games, seed=20_000_000) if games else {}
    report = {"teacher": who, "game": spec.game, "state": spec.state, "rounds": rounds, "states_per_round": states,
              "training_states": len(data), "max_depth": max_depth, "max_leaf_nodes": max_leaf_nodes,
              "nodes": tree.n_nodes, "leaves": tree.n_leaves, "depth": tree.depth, "bytes": exports["bytes"],
              "features_base": FEATURES_BASE, "held_out": agree, "closed_loop": loop,
              "files": {k: exports[k] for k in ("c", "ca65")} | {"tree": str(out / "tree.json")},
              "wall_s": round(time.time() - t0, 1)}
    write_report(out if out_dir else run_dir, report)
    return report


__all__ = ["DEFAULT_GAME", "distill", "run_spec", "teacher_path"]
