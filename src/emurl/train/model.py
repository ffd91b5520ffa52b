"""The learner: Stable-Baselines3 PPO / DQN built from a :class:`~emurl.train.config.TrainConfig`,
loaded from and saved to checkpoints (atomically, through :func:`emurl.fileio.atomic_write`)."""

from __future__ import annotations

import io
from pathlib import Path

from sb3_contrib import MaskablePPO
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm

from emurl.fileio import atomic_write
from emurl.train.config import TrainConfig
from emurl.train.policies import policy_kwargs

ALGORITHMS = {"ppo": PPO, "dqn": DQN, "maskable_ppo": MaskablePPO}


def _schedule(cfg: TrainConfig):
    if cfg.lr_schedule == "linear":
        lr = cfg.learning_rate
        return lambda progress_remaining: lr * progress_remaining
    return cfg.learning_rate


def build_model(cfg: TrainConfig, env, tb_dir: str | None) -> BaseAlgorithm:
    """A new PPO, MaskablePPO or DQN on ``env`` (a VecEnv or an env) with ``cfg``'s hyperparameters:
    ``CnnPolicy`` on pixels, ``MlpPolicy`` on RAM or variables; TensorBoard logs to ``tb_dir``."""
    policy = {"rgb": "CnnPolicy", "features": "MultiInputPolicy"}.get(cfg.env.obs_type, "MlpPolicy")
    common = dict(
        policy_kwargs=policy_kwargs(cfg.precision, cfg.env.obs_type),
        learning_rate=_schedule(cfg),
        gamma=cfg.gamma,
        seed=cfg.seed,
        verbose=0,
        tensorboard_log=tb_dir,
        device=cfg.device,
    )
    if cfg.algo in ("ppo", "maskable_ppo"):
        return ALGORITHMS[cfg.algo](
            policy, env, n_steps=cfg.n_steps, batch_size=cfg.batch_size, n_epochs=cfg.n_epochs,
            gae_lambda=cfg.gae_lambda, clip_range=cfg.clip_range, ent_coef=cfg.ent_coef, vf_coef=cfg.vf_coef,
            max_grad_norm=cfg.max_grad_norm, **common,
        )
    return DQN(
        policy, env, buffer_size=cfg.buffer_size, learning_starts=cfg.learning_starts,
        batch_size=cfg.batch_size if cfg.batch_size <= 256 else 32, train_freq=cfg.train_freq,
        target_update_interval=cfg.target_update_interval, exploration_fraction=cfg.exploration_fraction,
        exploration_final_eps=cfg.exploration_final_eps, max_grad_norm=cfg.max_grad_norm if cfg.max_grad_norm else 10,
        optimize_memory_usage=False, **common,
    )


def load_model(cfg: TrainConfig, path: str | Path, env=None) -> BaseAlgorithm:
    """The checkpoint at ``path`` (an SB3 zip) as ``cfg.algo``'s class, on ``env`` if given."""
    return ALGORITHMS[cfg.algo].load(str(path), env=env, device=cfg.device)


def save_checkpoint(model: BaseAlgorithm, path: Path) -> Path:
    """``model.save`` into memory, then :func:`~emurl.fileio.atomic_write` to ``path``
    (temporary file, fsync, rename): a crash leaves the old checkpoint or the new one."""
    buf = io.BytesIO()
    model.save(buf)
    return atomic_write(path, buf.getvalue())


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """``<run_dir>/checkpoints/latest.zip`` if it exists."""
    p = Path(run_dir) / "checkpoints" / "latest.zip"
    return p if p.is_file() else None


__all__ = ["ALGORITHMS", "build_model", "latest_checkpoint", "load_model", "save_checkpoint"]
