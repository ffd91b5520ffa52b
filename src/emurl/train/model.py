"""The learner: Stable-Baselines3 PPO / A2C / DQN, sb3-contrib MaskablePPO / RecurrentPPO, built
from a :class:`~emurl.train.config.TrainConfig`,
loaded from and saved to checkpoints (atomically, through :func:`emurl.fileio.atomic_write`).

A checkpoint is Stable-Baselines3's zip: ``data`` (JSON: the learner's settings and
``num_timesteps``), ``policy.pth``, ``policy.optimizer.pth``, ... A run keeps
``checkpoints/latest.zip``, ``checkpoints/model_<steps>.zip`` (the newest
``keep_checkpoints``) and ``checkpoints/best.zip`` (the best evaluation). A damaged one
(cut short, bytes changed: every entry's CRC-32 is checked) is a :class:`CheckpointError`;
a run folder's newest intact one is found by :func:`newest_intact_checkpoint`.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from pathlib import Path

import gymnasium as gym
from sb3_contrib import MaskablePPO, RecurrentPPO
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm

from emurl.errors import CheckpointError, ConfigError, EmurlError
from emurl.fileio import atomic_write
from emurl.train.config import ON_POLICY, RECURRENT, TrainConfig
from emurl.train.policies import CUSTOM_POLICIES, policy_kwargs

ALGORITHMS = {"ppo": PPO, "dqn": DQN, "maskable_ppo": MaskablePPO, "a2c": A2C, "recurrent_ppo": RecurrentPPO}
"""``--algo`` → its class (every name of :data:`emurl.train.config.ALGOS`)."""
PPO_FAMILY = ("ppo", "maskable_ppo", "recurrent_ppo")
"""The algorithms of PPO's clipped objective (their checkpoints hold ``clip_range``, A2C's don't)."""


def _schedule(cfg: TrainConfig):
    if cfg.lr_schedule == "linear":
        lr = cfg.learning_rate
        return lambda progress_remaining: lr * progress_remaining
    return cfg.learning_rate


def policy_name(cfg: TrainConfig, observation_space: gym.Space) -> str | type:
    """The Stable-Baselines3 policy of ``cfg.algo`` for ``observation_space``: ``CnnPolicy``
    on pixels, ``MultiInputPolicy`` on a ``Dict`` of features, ``MlpPolicy`` on RAM,
    variables or a features vector; ``CnnLstmPolicy``, ``MultiInputLstmPolicy`` and
    ``MlpLstmPolicy`` for ``recurrent_ppo``; the class of ``cfg.policy`` where it is not
    ``auto`` (:data:`emurl.train.policies.CUSTOM_POLICIES`)."""
    if cfg.policy != "auto":
        return CUSTOM_POLICIES[cfg.policy]
    if isinstance(observation_space, gym.spaces.Dict):  # e.g. Dr. Mario's planes and vector
        kind = "MultiInput"
    else:  # a racing game's features are one vector
        kind = "Cnn" if cfg.env.obs_type == "rgb" else "Mlp"
    return kind + ("LstmPolicy" if cfg.algo in RECURRENT else "Policy")


def model_policy_kwargs(cfg: TrainConfig) -> dict:
    """SB3 ``policy_kwargs`` of ``cfg``: the precision's trunk (:func:`emurl.train.policies.policy_kwargs`)
    and, for ``recurrent_ppo``, the LSTM's size.

    Raises:
        ConfigError: ``precision: bf16`` on a CPU without bfloat16.
    """
    try:
        kwargs = policy_kwargs(cfg.precision, cfg.env.obs_type)
    except ValueError as exc:  # bf16 on a CPU without it
        raise ConfigError(str(exc)) from None
    if cfg.algo in RECURRENT:
        kwargs.update(lstm_hidden_size=cfg.lstm_hidden_size, n_lstm_layers=cfg.lstm_layers)
    return kwargs


def build_model(cfg: TrainConfig, env, tb_dir: str | None) -> BaseAlgorithm:
    """A new learner of ``cfg.algo`` (:data:`ALGORITHMS`) on ``env`` (a VecEnv or an env) with
    ``cfg``'s hyperparameters and :func:`policy_name`'s policy; TensorBoard logs to ``tb_dir``.

    A2C takes ``n_steps``, ``gae_lambda``, ``ent_coef``, ``vf_coef`` and ``max_grad_norm``
    (Stable-Baselines3's RMSprop optimiser, as in Mnih et al. 2016); recurrent PPO takes
    PPO's settings and ``lstm_hidden_size`` / ``lstm_layers`` (sb3-contrib's default: an
    LSTM for the actor and one for the critic).

    Raises:
        ConfigError: ``precision: bf16`` on a CPU without bfloat16.
    """
    policy = policy_name(cfg, env.observation_space)
    kwargs = model_policy_kwargs(cfg)
    common = dict(
        policy_kwargs=kwargs,
        learning_rate=_schedule(cfg),
        gamma=cfg.gamma,
        seed=cfg.seed,
        verbose=0,
        tensorboard_log=tb_dir,
        device=cfg.device,
    )
    if cfg.algo == "a2c":
        return A2C(policy, env, n_steps=cfg.n_steps, gae_lambda=cfg.gae_lambda, ent_coef=cfg.ent_coef,
                   vf_coef=cfg.vf_coef, max_grad_norm=cfg.max_grad_norm, **common)
    if cfg.algo in PPO_FAMILY:
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


def load_model(cfg: TrainConfig, path: str | Path, env=None, resume: bool = False) -> BaseAlgorithm:
    """The checkpoint at ``path`` (an SB3 zip) as ``cfg.algo``'s class, on ``env`` if given.

    With ``resume``, the learner settings a resumed run may change
    (:data:`~emurl.train.config.RESUMABLE`: ``learning_rate`` and ``lr_schedule``,
    ``ent_coef``) are ``cfg``'s instead of the checkpoint's; the others stay the checkpoint's.

    Raises:
        CheckpointError: ``path`` is missing, damaged (:func:`checkpoint_steps`), not a
            ``cfg.algo`` checkpoint, or made for other observations or actions than ``env``'s.
    """
    data = _checkpoint_data(path)  # every entry's CRC before Stable-Baselines3 unpickles any of it
    cls = ALGORITHMS[cfg.algo]
    if ("clip_range" in data) != (cfg.algo in PPO_FAMILY) and "n_steps" in data:  # A2C's and PPO's data differ in it
        raise CheckpointError(f"{path}: cannot load as a {cfg.algo} checkpoint of this run's env: it is "
                              f"{'a PPO' if 'clip_range' in data else 'an A2C'} checkpoint")
    changes = {}
    if resume:
        changes["learning_rate"] = _schedule(cfg)  # SB3's _setup_model makes lr_schedule from it
        if cfg.algo in ON_POLICY:
            changes["ent_coef"] = cfg.ent_coef
    try:
        model = cls.load(str(path), env=env, device=cfg.device, **changes)
        allowed = set(cls.policy_aliases.values()) | ({CUSTOM_POLICIES[cfg.policy]} if cfg.policy != "auto" else set())
        if type(model.policy) not in allowed:  # e.g. an LSTM policy loaded by PPO
            raise TypeError(f"its policy is a {type(model.policy).__name__}, not one of {cls.__name__}'s")
        return model
    except EmurlError:
        raise
    except Exception as exc:  # SB3 and torch raise many kinds (KeyError, ValueError, RuntimeError, pickle's ...)
        raise CheckpointError(f"{path}: cannot load as a {cfg.algo} checkpoint of this run's env: "
                              f"{type(exc).__name__}: {exc}") from exc


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


def checkpoint_steps(path: str | Path) -> int:
    """The agent steps a checkpoint was saved at (``num_timesteps`` in its ``data``), after
    checking every entry of the zip against its CRC-32.

    Raises:
        CheckpointError: naming the file: missing, not a zip (cut short, random bytes), an
            entry that fails its CRC, or no Stable-Baselines3 ``data`` in it.
    """
    return _checkpoint_data(path)["num_timesteps"]


def _checkpoint_data(path: str | Path) -> dict:
    """A checkpoint's ``data`` (JSON), every zip entry's CRC checked and ``num_timesteps`` a
    whole number >= 0 (:func:`checkpoint_steps` says which errors)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            if bad is not None:
                raise CheckpointError(f"{path}: damaged checkpoint: its entry {bad!r} fails its CRC check")
            data = json.loads(z.read("data"))
            steps = data["num_timesteps"]
    except CheckpointError:
        raise
    except Exception as exc:  # zipfile, zlib, json and a damaged header raise many kinds
        raise CheckpointError(f"{path}: damaged checkpoint (expected a Stable-Baselines3 zip): "
                              f"{type(exc).__name__}: {exc}") from None
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise CheckpointError(f"{path}: damaged checkpoint: num_timesteps is {steps!r}, expected a whole number >= 0")
    return data


MODEL_FILE = re.compile(r"model_(\d+)\.zip")
"""``model_<steps>.zip``: a run's numbered checkpoints."""


def numbered_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """``(steps, path)`` of ``<run_dir>/checkpoints/model_<steps>.zip``, newest (most steps) first."""
    folder = Path(run_dir) / "checkpoints"
    found = [(int(m.group(1)), p) for p in folder.glob("model_*.zip") if (m := MODEL_FILE.fullmatch(p.name))]
    return sorted(found, reverse=True)


def newest_intact_checkpoint(run_dir: str | Path, warn=None) -> tuple[Path, int]:
    """The checkpoint a run continues or is evaluated from, and its agent steps:
    ``latest.zip``, or a numbered one with more steps (a crash between the two writes), or,
    when ``latest.zip`` is damaged, the newest intact ``model_<steps>.zip``; each skipped
    damaged file is reported to ``warn`` (default: a line on stderr).

    Raises:
        CheckpointError: no checkpoint in the run folder, or none intact (naming each).
    """
    warn = warn or (lambda line: print(f"emurl: warning: {line}", file=sys.stderr, flush=True))
    latest = Path(run_dir) / "checkpoints" / "latest.zip"
    damaged: list[CheckpointError] = []
    latest_steps = None
    if latest.is_file():
        try:
            latest_steps = checkpoint_steps(latest)
        except CheckpointError as exc:
            damaged.append(exc)
    chosen = (latest, latest_steps) if latest_steps is not None else None
    for steps, path in numbered_checkpoints(run_dir):
        if latest_steps is not None and steps <= latest_steps:
            break
        try:
            chosen = (path, checkpoint_steps(path))
            break
        except CheckpointError as exc:
            damaged.append(exc)
    if chosen is None:
        if damaged:
            raise CheckpointError(f"{run_dir}: no intact checkpoint: " + "; ".join(map(str, damaged)))
        raise CheckpointError(f"{run_dir}: no checkpoint in {Path(run_dir) / 'checkpoints'} (latest.zip or "
                              "model_<steps>.zip)")
    for exc in damaged:
        warn(f"{exc}; skipped")
    if damaged:
        warn(f"using {chosen[0]} ({chosen[1]} agent steps), the newest intact checkpoint")
    return chosen


def prune_checkpoints(run_dir: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` ``model_<steps>.zip`` of a run (0: keep all);
    ``latest.zip`` and ``best.zip`` are never touched. Returns the deleted files."""
    if keep <= 0:
        return []
    old = [p for _, p in numbered_checkpoints(run_dir)[keep:]]
    for p in old:
        p.unlink(missing_ok=True)
    return old


__all__ = ["ALGORITHMS", "build_model", "model_policy_kwargs", "policy_name", "checkpoint_steps", "latest_checkpoint", "load_model", "newest_intact_checkpoint",
           "numbered_checkpoints", "prune_checkpoints", "save_checkpoint"]
