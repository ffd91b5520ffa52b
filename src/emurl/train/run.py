"""Training runs: PPO / DQN from Stable-Baselines3 on emurl envs, in a run folder.

A run folder ``runs/<game>__<algo>__<seed>__<time>/`` holds:

- ``config.yaml``: the frozen :class:`~emurl.train.config.TrainConfig` (a run resumes
  and evaluates from its folder alone);
- ``config.prev.yaml``: the config a resume with new settings replaced;
- ``checkpoints/model_<steps>.zip`` (the newest ``keep_checkpoints``), ``checkpoints/latest.zip``
  and ``checkpoints/best.zip`` (the best evaluation), written atomically
  (:func:`~emurl.train.model.save_checkpoint`): a crash never leaves a half-written checkpoint;
- ``tb/``: TensorBoard event files (``rollout/ep_rew_mean`` is the raw game score,
  recorded before reward clipping; ``eval/mean_return``);
- ``videos/eval_<steps>.mp4``: the first episode of each evaluation;
- ``evaluations.jsonl``: one line per periodic evaluation.

Read top to bottom, :func:`train` is: the config (new, or the run's own on resume) →
checks in this process → the run folder → the vector env → the model (new or the
checkpoint) → ``learn`` with :class:`~emurl.train.callbacks.RunCallback`.

A failed command never damages a run: a resume whose settings conflict with the run's
(:func:`~emurl.train.config.check_resume`) is refused before anything is written; a
resumed run's ``config.yaml`` is rewritten (atomically, the previous one kept as
``config.prev.yaml``) only once its envs are up and its checkpoint loaded; a damaged
``latest.zip`` falls back to the newest intact checkpoint; a new run folder whose start
failed is removed; one run folder is trained by one process at a time (a lock on the folder).
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import gymnasium as gym
import torch
from stable_baselines3.common.vec_env import VecEnv

from emurl.envs import build_env, check_spec
from emurl.envs.settings import load_yaml
from emurl.errors import ConfigError, WorkerError
from emurl.fileio import atomic_write, new_run_folder  # noqa: F401 (new_run_folder: also imported from here)
from emurl.train.callbacks import RunCallback, StopOnSignal, TrainingEpisodes
from emurl.train.config import TrainConfig, apply, check_resume, write_yaml_atomic
from emurl.train.evaluate import load_run_config
from emurl.train.model import build_model, checkpoint_steps, load_model, newest_intact_checkpoint
from emurl.train.selfplay.learner import SelfPlayEnvFactory, pool_callback
from emurl.train.worker_health import WorkerHealthCallback
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
    """Check game, ROM, states and scenario (:func:`emurl.envs.check_spec`), then build one
    env in this process and close it, so that a mistake is reported as itself (the same
    error ``emurl.make`` gives) before any worker process starts. The env is closed
    before the workers start: stable-retro and DeSmuME allow one emulator per process, and
    each worker opens its own in its own process.

    Raises:
        ConfigError: a CUDA device on a machine without one; and what :func:`build_env` raises.
    """
    check_spec(cfg.env)
    if cfg.device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device = {cfg.device}: this machine has no CUDA device; use auto or cpu")
    build_env(cfg.env).close()


def make_vec(cfg: TrainConfig, run_dir: str | os.PathLike | None = None) -> VecEnv:
    """``cfg.num_envs`` training envs, one process each, seeded ``seed``, ``seed + 1``, ...:
    emurl's vector env, observations through shared memory, or through the pipes for the
    ``Dict`` ones of ``obs_type="features"`` (small). With ``cfg.selfplay``, env ``i``
    plays seat ``i % 2`` against the pool in ``run_dir/pool``
    (:class:`~emurl.train.selfplay.learner.SelfPlayEnvFactory`)."""
    if cfg.selfplay:
        pool_dir = Path(run_dir or ".") / "pool"
        factories = [SelfPlayEnvFactory(cfg.env, pool_dir, rank, cfg.seed) for rank in range(cfg.num_envs)]
    else:
        factories = [_EnvFactory(cfg) for _ in range(cfg.num_envs)]
    if cfg.env.obs_type == "features":
        venv = subprocess_vec_env(factories)
    else:
        venv = SharedMemoryVecEnv(factories)
    venv.seed(cfg.seed)
    return venv


@contextmanager
def run_lock(run_dir: Path):
    """Hold an exclusive lock on the run folder itself (``flock`` on the directory: no file
    is written) while a process trains it; the lock ends with the process, even on kill -9.

    Raises:
        ConfigError: another process is training this run folder.
    """
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise ConfigError(f"{run_dir}: another process is training this run; wait for it to end "
                                  "(or stop it) before resuming") from None
            raise
        yield
    finally:
        os.close(fd)  # releases the lock


def _resume_config(run_dir: Path, overrides: dict | None, config_file: str | None) -> TrainConfig:
    """The run's frozen config with ``config_file`` then ``overrides`` applied; refused
    (:func:`check_resume`) where a setting the run can't change differs."""
    run_cfg = load_run_config(run_dir)
    cfg = run_cfg
    if config_file:
        cfg = apply(cfg, load_yaml(config_file), str(config_file))
    if overrides:
        cfg = apply(cfg, {k: v for k, v in overrides.items() if v is not None}, "command line")
    check_resume(run_cfg, cfg, run_dir)
    return cfg


def _save_config(run_dir: Path, cfg: TrainConfig) -> None:
    """Freeze ``cfg`` into ``config.yaml``, keeping the one it replaces as ``config.prev.yaml``
    (both written atomically); nothing is written when it is unchanged."""
    path = run_dir / "config.yaml"
    if path.is_file():
        if load_run_config(run_dir) == cfg:
            return
        atomic_write(run_dir / "config.prev.yaml", path.read_bytes())
    write_yaml_atomic(path, cfg.to_dict())


def train(cfg: TrainConfig | None = None, resume: str | os.PathLike | None = None, overrides: dict | None = None,
          init_from: str | None = None, progress_bar: bool = True, config_file: str | None = None,
          on_run_folder: Callable[[Path, TrainConfig], None] | None = None) -> Path:
    """Train, or resume the run in ``resume``; returns the run folder.

    Args:
        cfg: the config of a new run (ignored when resuming).
        resume: a run folder; its ``config.yaml`` and newest intact checkpoint are loaded
            and training continues to ``total_steps`` (which ``overrides`` may raise).
        overrides: settings changed on resume (e.g. ``{"total_steps": 2_000_000}``); only
            those of :data:`~emurl.train.config.RESUMABLE` may differ from the run's.
        init_from: a checkpoint whose policy weights start a new run.
        config_file: on resume, a YAML file of settings applied before ``overrides``.
        on_run_folder: called with the run folder and its config once both are known and
            the folder is locked, before any env worker starts (``emurl train --show`` names
            the watched job after the folder).

    Raises:
        ConfigError: a bad config, a resume that conflicts with the run, a run that has
            already reached ``total_steps``, a run another process is training.
        CheckpointError: no intact checkpoint to resume from; a damaged ``init_from``.
        FileNotFoundError: ``resume`` is not a run folder.
        WorkerError: env workers kept dying; a checkpoint of that moment was saved and the
            resume command printed.
    """
    if resume:
        if init_from:
            raise ConfigError("--init-from starts a new run from a checkpoint's weights; --resume continues a run: "
                              "give one of them")
        run_dir = Path(resume)
        if not (run_dir / "config.yaml").is_file():
            raise FileNotFoundError(f"{run_dir}: not a run folder (no config.yaml)")
        with run_lock(run_dir):  # nothing is written before the lock, the checks and a started run
            cfg = _resume_config(run_dir, overrides, config_file)
            ckpt, steps = newest_intact_checkpoint(run_dir)
            if cfg.total_steps <= steps:
                raise ConfigError(f"{run_dir}: already trained {steps} agent steps of total_steps = {cfg.total_steps}; "
                                  f"to train on, raise it: emurl {_verb(cfg)} --resume {run_dir} --total-steps "
                                  f"{steps + cfg.total_steps}")
            preflight(cfg)
            if on_run_folder is not None:
                on_run_folder(run_dir, cfg)
            _run(cfg, run_dir, ckpt, None, progress_bar, new=False)
        return run_dir
    if cfg is None:
        raise ConfigError("train: give a config (a new run) or resume= (a run folder)")
    preflight(cfg)
    if init_from:
        checkpoint_steps(init_from)  # a damaged file is reported before a run folder exists
    run_dir = new_run_folder(cfg.runs_dir, cfg.run_name(time.time()))
    with run_lock(run_dir):
        if on_run_folder is not None:
            on_run_folder(run_dir, cfg)
        _run(cfg, run_dir, None, init_from, progress_bar, new=True)
    return run_dir


def _run(cfg: TrainConfig, run_dir: Path, ckpt: Path | None, init_from: str | None, progress_bar: bool,
         new: bool) -> None:
    """Start the envs and the model in ``run_dir``, freeze the config, learn. A new run's
    folder is removed if anything fails before learning starts."""
    if new:
        write_yaml_atomic(run_dir / "config.yaml", cfg.to_dict())
    torch.set_num_threads(cfg.torch_threads or os.cpu_count() or 1)
    learning = False
    venv = None
    try:
        venv = make_vec(cfg, run_dir)
        tb_dir = str(run_dir / "tb")
        if ckpt is not None:
            model = load_model(cfg, ckpt, env=venv, resume=True)
            model.tensorboard_log = tb_dir
            _save_config(run_dir, cfg)  # the resumed run has started: its new settings are its own now
        else:
            model = build_model(cfg, venv, tb_dir)
            if init_from:
                _init_weights(model, cfg, init_from)
        callback = RunCallback(cfg, run_dir, None)
        callbacks = [callback, TrainingEpisodes(run_dir), WorkerHealthCallback()]
        if cfg.selfplay:  # the pool's files exist before the envs' first reset draws from it
            callbacks.append(pool_callback(cfg, run_dir, model))
        learning = True
        with StopOnSignal() as stop:
            callback.stop = stop
            try:
                model.learn(total_timesteps=cfg.total_steps - model.num_timesteps,
                            callback=callbacks,
                            tb_log_name="run", reset_num_timesteps=ckpt is None, progress_bar=progress_bar)
            except WorkerError:  # an env failed, not the learner: its policy is sound, keep it
                if model.num_timesteps != callback.saved_steps:
                    callback.checkpoint()
                print(f"stopped at {model.num_timesteps} agent steps; checkpoint "
                      f"{run_dir / 'checkpoints' / 'latest.zip'}; continue with: emurl {_verb(cfg)} --resume {run_dir}",
                      file=sys.stderr, flush=True)
                raise
            finally:
                callback.close()
        if stop.requested:
            print(f"{stop.signal_name}: stopped at {model.num_timesteps} agent steps; "
                  f"checkpoint {run_dir / 'checkpoints' / 'latest.zip'}; continue with: "
                  f"emurl {_verb(cfg)} --resume {run_dir}", file=sys.stderr, flush=True)
    except BaseException:
        if new and not learning:  # not a run: don't leave a folder that looks like one
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    finally:
        if venv is not None:
            venv.close()


def _verb(cfg: TrainConfig) -> str:
    """The command that resumes a run of ``cfg``: ``train``, or ``selfplay`` for a self-play run."""
    return "selfplay" if cfg.selfplay else "train"


def _init_weights(model, cfg: TrainConfig, init_from: str) -> None:
    """Copy ``init_from``'s policy weights into ``model``.

    Raises:
        CheckpointError: damaged; ConfigError: a policy of another shape (observations, actions, network).
    """
    source = load_model(cfg, init_from)
    try:
        model.policy.load_state_dict(source.policy.state_dict())
    except RuntimeError as exc:
        raise ConfigError(f"--init-from {init_from}: its policy does not fit this run's (other observations, actions "
                          f"or network): {str(exc).splitlines()[0]}") from None


__all__ = ["make_env", "make_vec", "new_run_folder", "preflight", "run_lock", "train"]
