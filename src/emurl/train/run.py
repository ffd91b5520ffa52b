"""Training runs: PPO / DQN from Stable-Baselines3 on emurl envs, in a run folder.

A run folder ``runs/<game>__<algo>__<seed>__<time>/`` holds:

- ``config.yaml``: the frozen :class:`~emurl.train.config.TrainConfig` (a run resumes
  and evaluates from its folder alone);
- ``checkpoints/model_<steps>.zip`` and ``checkpoints/latest.zip``, written atomically
  (:func:`~emurl.train.model.save_checkpoint`): a crash never leaves a half-written checkpoint;
- ``tb/``: TensorBoard event files (``rollout/ep_rew_mean`` is the raw game score,
  recorded before reward clipping; ``eval/mean_return``);
- ``videos/eval_<steps>.mp4``: the first episode of each evaluation;
- ``evaluations.jsonl``: one line per periodic evaluation.

Read top to bottom, :func:`train` is: the config (new, or the run's own on resume) →
checks in this process → the run folder → the vector env → the model (new or the
checkpoint) → ``learn`` with :class:`~emurl.train.callbacks.RunCallback`.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import gymnasium as gym
import torch
from stable_baselines3.common.vec_env import VecEnv

from emurl.envs import build_env, check_spec
from emurl.train.callbacks import RunCallback, StopOnSignal
from emurl.train.config import TrainConfig, apply, write_yaml_atomic
from emurl.train.evaluate import load_run_config
from emurl.train.model import build_model, latest_checkpoint, load_model
from emurl.vector import SharedMemoryVecEnv, subprocess_vec_env


def make_env(cfg: TrainConfig, evaluation: bool = False) -> gym.Env:
    """The env a run trains on (``cfg.env``) or evaluates on (``cfg.eval_env()``)."""
    return build_env(cfg.eval_env() if evaluation else cfg.env)


class _EnvFactory:
    """A picklable env constructor for worker processes."""

    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg

    def __call__(self) -> gym.Env:
        return build_env(self.cfg.env)


def preflight(cfg: TrainConfig) -> None:
    """Check game, ROM, states and scenario in this process (:func:`emurl.envs.check_spec`),
    so that a mistake is reported as itself rather than as a worker process's failure."""
    check_spec(cfg.env)


def make_vec(cfg: TrainConfig) -> VecEnv:
    """``cfg.num_envs`` training envs, one process each, seeded ``seed``, ``seed + 1``, ...:
    emurl's shared-memory vector env for array observations, Stable-Baselines3's
    ``SubprocVecEnv`` for the ``Dict`` ones of ``obs_type="features"`` (small: pickled)."""
    factories = [_EnvFactory(cfg) for _ in range(cfg.num_envs)]
    if cfg.env.obs_type == "features":
        venv = subprocess_vec_env(factories)
    else:
        venv = SharedMemoryVecEnv(factories)
    venv.seed(cfg.seed)
    return venv


def train(cfg: TrainConfig | None = None, resume: str | os.PathLike | None = None, overrides: dict | None = None,
          init_from: str | None = None, progress_bar: bool = True) -> Path:
    """Train, or resume the run in ``resume``; returns the run folder.

    Args:
        cfg: the config of a new run (ignored when resuming).
        resume: a run folder; its ``config.yaml`` and ``checkpoints/latest.zip`` are loaded
            and training continues to ``total_steps`` (which ``overrides`` may raise).
        overrides: settings changed on resume (e.g. ``{"total_steps": 2_000_000}``).
        init_from: a checkpoint whose policy weights start a new run.

    Raises:
        ConfigError: a bad config; FileNotFoundError: a run folder without a checkpoint.
    """
    if resume:
        run_dir = Path(resume)
        if not (run_dir / "config.yaml").is_file():
            raise FileNotFoundError(f"{run_dir}: not a run folder (no config.yaml)")
        cfg = load_run_config(run_dir)
        if overrides:
            cfg = apply(cfg, overrides, "command line")
        ckpt = latest_checkpoint(run_dir)
        if ckpt is None:
            raise FileNotFoundError(f"{run_dir}: no checkpoints/latest.zip to resume from")
    else:
        assert cfg is not None
        preflight(cfg)
        run_dir = Path(cfg.runs_dir) / cfg.run_name(time.time())
        run_dir.mkdir(parents=True, exist_ok=False)
        ckpt = None
    write_yaml_atomic(run_dir / "config.yaml", cfg.to_dict())
    torch.set_num_threads(cfg.torch_threads or os.cpu_count() or 1)

    venv = make_vec(cfg)
    try:
        tb_dir = str(run_dir / "tb")
        if ckpt is not None:
            model = load_model(cfg, ckpt, env=venv)
            model.tensorboard_log = tb_dir
        else:
            model = build_model(cfg, venv, tb_dir)
            if init_from:
                model.policy.load_state_dict(load_model(cfg, init_from).policy.state_dict())
        remaining = cfg.total_steps - model.num_timesteps
        if remaining > 0:
            with StopOnSignal() as stop:
                model.learn(total_timesteps=remaining, callback=RunCallback(cfg, run_dir, stop), tb_log_name="run",
                            reset_num_timesteps=ckpt is None, progress_bar=progress_bar)
            if stop.requested:
                print(f"{stop.signal_name}: stopped at {model.num_timesteps} agent steps; "
                      f"checkpoint {run_dir / 'checkpoints' / 'latest.zip'}; continue with: "
                      f"emurl train --resume {run_dir}", file=sys.stderr, flush=True)
    finally:
        venv.close()
    return run_dir


__all__ = ["make_env", "make_vec", "preflight", "train"]
