"""Behaviour cloning: fit ``emurl train``'s PPO policy to a dataset's actions, save a checkpoint PPO continues.

The policy is the one ``emurl train`` builds (:func:`emurl.train.model.build_model`: SB3's
PPO ``CnnPolicy``, Nature CNN trunk, bfloat16 where the CPU has it, on a dataset of the
``atari`` pipeline; ``MlpPolicy`` on one of RAM, recorded with ``--pipeline none`` and
``obs_type: ram``), built for the dataset's observation space (e.g. uint8 (4, 84, 84)) and
action set (``Discrete(len(combos))``).
It is trained by a plain torch loop: cross-entropy of the policy's action logits (as
``policy.evaluate_actions`` computes them) on the dataset's actions, plus, weighted by
``value_coef``, a mean squared error of the value head on the discounted return of
each step (rewards clipped as training clips them, no bootstrap at an episode's end),
divided by the returns' variance when that is over 1, so that PPO starts with a value
function that roughly fits the demonstrations. The heads start at the prior
(:func:`~emurl.train.bc_fit.start_at_prior`: the actions' log-frequencies, the mean return).

The output is a run folder ``runs/<game>__bc__<seed>__<time>/`` (or the folder given):

- ``checkpoints/latest.zip``: a Stable-Baselines3 PPO zip, written atomically;
- ``config.yaml``: the :class:`~emurl.train.config.TrainConfig` of the dataset's env
  (game preset ← the dataset's env settings), so that
  ``emurl train --config RUN/config.yaml --init-from RUN/checkpoints/latest.zip``
  trains PPO on the same observations and actions from the cloned policy
  (``emurl eval RUN`` evaluates the cloned policy itself);
- ``bc.json``: accuracies and losses per epoch.

With ``out`` ending in ``.zip``, only the checkpoint is written, there.

With ``seq_len`` (``emurl bc DATASET --seq-len N``) the policy is recurrent PPO's instead
(sb3-contrib's ``CnnLstmPolicy`` / ``MlpLstmPolicy``, the LSTM sized by the config's
``lstm_hidden_size`` and ``lstm_layers``), fitted by truncated backpropagation through
sequences of N steps (:mod:`emurl.train.bc_fit`); the checkpoint is a
``RecurrentPPO`` zip and ``config.yaml`` says ``algo: recurrent_ppo``, so that
``emurl train --config RUN/config.yaml --init-from RUN/checkpoints/latest.zip`` continues it.
"""

from __future__ import annotations

import json
import os
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO
from tqdm import tqdm

from emurl.fileio import atomic_write
from emurl.imitation import Dataset, DatasetError, load_dataset
from emurl.train.config import TrainConfig, apply, build_config, write_yaml_atomic
from emurl.train.bc_fit import fit_sequences, fit_steps, sequence_probabilities, start_at_prior
from emurl.train.model import build_model, save_checkpoint

DATASET_ENV_FIELDS = ("game", "scenario", "obs_type", "action_set", "frame_skip", "max_pool", "backend", "screens",
                      "screen_size", "frame_stack", "crop")
"""The env settings of a dataset's ``meta["config"]`` that a cloned policy's run takes: those
that make its observations and actions (the rest, e.g. the recording's no-op-free resets
and raw rewards, are the recording's, not training's). Datasets written before
``meta["config"]`` held a whole EnvSpec hold exactly these, as flat keys."""


@dataclass
class BCResult:
    """What :func:`behaviour_clone` made.

    Attributes:
        checkpoint: the PPO zip.
        run_dir: the run folder, or None when ``out`` was a ``.zip`` path.
        train_accuracy: fraction (0-1) of training steps whose most likely action is the
            dataset's, after the last epoch.
        val_accuracy: the same on the validation steps, or None without any.
        history: one dict per epoch: ``epoch``, ``loss`` (cross-entropy, nats),
            ``train_accuracy`` (during the epoch), ``val_accuracy``, ``val_loss``, ``seconds``.
        train_steps, val_steps: dataset steps in each split.
        config: the :class:`~emurl.train.config.TrainConfig` written to ``config.yaml``.
    """

    checkpoint: Path
    run_dir: Path | None
    train_accuracy: float
    val_accuracy: float | None
    history: list[dict] = field(default_factory=list)
    train_steps: int = 0
    val_steps: int = 0
    config: TrainConfig | None = None


def _spaces_env(observation_space, action_space):
    """A gymnasium env that only carries spaces: what SB3 needs to build a policy for them."""

    class SpacesEnv(gym.Env):
        def __init__(self):
            self.observation_space = observation_space
            self.action_space = action_space

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            return self.observation_space.sample(), {}

        def step(self, action):
            raise RuntimeError("the behaviour-cloning model's env only carries spaces; it can't be stepped")

    return SpacesEnv()


def split_steps(ds: Dataset, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation step indices, int64 arrays: the last ``val_fraction`` (0-1) of
    each episode is held out (whole stretches of play, not frames next to training frames).

    Raises:
        ValueError: ``val_fraction`` outside [0, 1).
    """
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    train, val = [], []
    for ep in ds.episodes():
        idx = np.arange(ep.start, ep.stop)
        k = int(round(len(idx) * val_fraction))
        train.append(idx[: len(idx) - k])
        val.append(idx[len(idx) - k:])
    cat = lambda parts: np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)  # noqa: E731
    return cat(train), cat(val)


def discounted_returns(ds: Dataset, gamma: float, clip: bool) -> np.ndarray:
    """float32 (N,): each step's discounted return to its episode's end (rewards clipped to
    [-1, 1] with ``clip``); 0 after the last step, terminated or not."""
    r = np.clip(ds.rewards, -1, 1) if clip else ds.rewards.astype(np.float32)
    out = np.zeros(len(ds), np.float32)
    for ep in ds.episodes():
        g = 0.0
        for i in range(ep.stop - 1, ep.start - 1, -1):
            g = float(r[i]) + gamma * g
            out[i] = g
    return out


def train_config_for(ds: Dataset, config=None, overrides: dict | None = None, algo: str = "ppo") -> TrainConfig:
    """The TrainConfig of the dataset's env: the game's preset (and its ``algo`` preset) ←
    ``config`` (YAML path) ← the dataset's env settings (:data:`DATASET_ENV_FIELDS` of
    ``meta["config"]``, and its common start state) ← ``overrides``; ``algo`` is ``"ppo"``
    or ``"recurrent_ppo"``.

    Raises:
        DatasetError: the dataset's observations are screens that are not the pixel
            pipeline's, which the CnnPolicy of ``emurl train`` takes.
        ConfigError: a bad setting (names the file).
    """
    meta = ds.meta
    obs_type = "rgb" if meta.get("pipeline") == "atari" else meta["config"].get("obs_type", "rgb")
    if obs_type == "rgb" and meta.get("pipeline") != "atari":
        raise DatasetError(f"{ds.path}: recorded with pipeline {meta.get('pipeline')!r}; behaviour cloning trains "
                           "emurl train's CnnPolicy, which sees the 'atari' pipeline's observations")
    env = {k: v for k, v in meta["config"].items() if k in DATASET_ENV_FIELDS}
    if meta.get("state"):
        env["state"] = meta["state"]
    cfg = build_config(meta["game"], config, {"algo": algo})
    cfg = apply(cfg, {k: v for k, v in env.items() if v is not None or k in ("crop", "scenario", "backend", "screens")},
                f"{ds.path}/meta.json")
    cfg = apply(cfg, {**(overrides or {}), "algo": algo, "obs_type": obs_type}, "behaviour cloning settings")
    want = (cfg.env.frame_stack, cfg.env.screen_size, cfg.env.screen_size)
    if obs_type == "rgb" and tuple(ds.obs.shape[1:]) != want:
        raise DatasetError(f"{ds.path}: observations {tuple(ds.obs.shape[1:])}, but the config's pipeline gives {want}")
    return cfg


def behaviour_clone(
    dataset: str | os.PathLike | Dataset,
    out: str | os.PathLike | None = None,
    *,
    epochs: int = 12,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    val_fraction: float = 0.1,
    value_coef: float = 0.5,
    seed: int = 0,
    config: str | None = None,
    overrides: dict | None = None,
    runs_dir: str | os.PathLike | None = None,
    progress: bool = True,
    log=print,
    seq_len: int | None = None,
) -> BCResult:
    """Train ``emurl train``'s PPO policy on a dataset's actions by cross-entropy; save a checkpoint.

    Args:
        dataset: a dataset folder (see :mod:`emurl.imitation.datasets`) or a loaded
            :class:`~emurl.imitation.datasets.Dataset`.
        out: a run folder to create, or a ``.zip`` path (default:
            ``<runs_dir>/<game>__bc__<seed>__<time>``).
        epochs: passes over the training steps.
        batch_size: steps per gradient step.
        learning_rate: Adam step size.
        val_fraction: share (0-1) of each episode, its end, held out for validation.
        value_coef: weight of the value head's regression on discounted returns, its squared error
            divided by the returns' variance when that is over 1 (0: off).
        seed: seed of the model's initial weights and of the batch order.
        config: a training config YAML whose settings (e.g. gamma, PPO's precision)
            apply before the dataset's env settings.
        overrides: TrainConfig settings applied last (e.g. ``{"torch_threads": 1}``).
        runs_dir: where the default run folder goes (default: the config's ``runs_dir``).
        progress: show a tqdm bar over gradient steps.
        log: where the per-epoch lines go (None: nowhere).
        seq_len: clone into recurrent PPO's LSTM policy by truncated backpropagation
            through sequences of this many steps (module doc); ``batch_size // seq_len``
            sequences (at least 1) make a gradient step. None: PPO's feed-forward policy.

    Architecture: the model is built exactly as ``emurl train`` builds it for the config,
    so that its checkpoint loads there. Note that Stable-Baselines3 gives a CnnPolicy the
    Nature network's heads (linear, straight from the 512 CNN features) only when the
    features extractor class *is* ``NatureCNN``; ``emurl.train.policies.BF16NatureCNN``
    (``precision: auto`` on a CPU with bfloat16, or ``bf16``) gets SB3's default
    ``[64, 64]`` tanh MLP heads instead. Cloning 300 Breakout steps through those heads
    stayed on the majority-action plateau (loss 1.13 nats, accuracy 0.37) for 30 epochs,
    in float32 or bfloat16 alike, where the Nature heads fit them (accuracy 0.98, with
    the trunk in float32 or bfloat16). A warning is logged when the config gives those
    heads; ``overrides={"precision": "fp32"}`` (``--set precision=fp32``) avoids them,
    and so does ``net_arch=[]`` in ``emurl.train.policies.policy_kwargs``.

    Optimisation: cloning first sits on a plateau where the policy predicts the actions'
    overall frequencies (on Breakout, loss ~1.14 nats, accuracy ~0.37) until the network
    finds the small objects the actions depend on (ball, paddle). With the defaults, 4,800
    steps of a scripted Breakout player left it after ~400 gradient steps (epoch 6) and
    reached 0.92 training / 0.76 validation accuracy by epoch 17; with a learning rate of
    2.5e-4 it was still at 0.54 after 14 epochs. Give small datasets more epochs.

    Returns:
        A :class:`BCResult`; accuracies are fractions in [0, 1].

    Raises:
        DatasetError: a bad dataset folder, observations not from the ``atari`` pipeline,
            or an empty dataset. FileExistsError: ``out`` exists. ConfigError: bad settings.
    """
    ds = dataset if isinstance(dataset, Dataset) else load_dataset(dataset)
    if len(ds) == 0:
        raise DatasetError(f"{ds.path}: the dataset has no steps")
    if epochs < 1 or batch_size < 1 or (seq_len is not None and seq_len < 1):
        raise ValueError(f"epochs, batch_size and seq_len must be >= 1, got {epochs}, {batch_size} and {seq_len}")
    log = log or (lambda *a, **k: None)
    cfg = train_config_for(ds, config, {**(overrides or {}), "seed": seed}, "recurrent_ppo" if seq_len else "ppo")
    if out is None:
        out = Path(runs_dir or cfg.runs_dir) / f"{cfg.game}__bc__{seed}__{int(time.time())}"
    out = Path(out)
    as_zip = out.suffix.lower() == ".zip"
    if out.exists():
        raise FileExistsError(f"{out}: already exists; choose a new {'file' if as_zip else 'run folder'}")
    if as_zip and not out.parent.is_dir():
        raise FileNotFoundError(f"{out}: no such folder {out.parent}")

    torch.set_num_threads(cfg.torch_threads or os.cpu_count() or 1)
    torch.manual_seed(seed)
    obs_space = gym.spaces.Box(0, 255, tuple(ds.obs.shape[1:]), np.uint8)
    act_space = gym.spaces.Discrete(len(ds.meta["combos"]))
    with warnings.catch_warnings():  # SB3 warns that batch_size exceeds n_steps × 1 env: irrelevant here
        warnings.simplefilter("ignore", UserWarning)
        model = build_model(cfg, _spaces_env(obs_space, act_space), None)
    policy = model.policy
    warning = None
    if cfg.env.obs_type == "rgb" and any(isinstance(m, torch.nn.Linear) for m in policy.mlp_extractor.modules()):
        warning = (f"precision {cfg.precision!r} gives this policy Stable-Baselines3's [64, 64] tanh heads, not the "
                   "Nature network's, and cloning through them fits poorly (see emurl.train.bc); "
                   "--set precision=fp32 gives the Nature heads")
        log(f"warning: {warning}")

    train_idx, val_idx = split_steps(ds, val_fraction)
    returns = discounted_returns(ds, cfg.gamma, bool(cfg.env.clip_reward))
    rng = np.random.default_rng(seed)
    start_at_prior(policy, ds.actions[train_idx], returns[train_idx])
    fit = _fit_recurrent if seq_len else fit_steps
    # the value head's squared error in units of the returns' variance (when over 1), so its
    # gradient is the size of the actions' cross-entropy's: MiniKart's discounted returns
    # (std ~15) otherwise outweighed it ~200 times and, through the shared CNN, kept a
    # recurrent policy on the majority action (start_at_prior's docstring)
    value_weight = value_coef / max(1.0, float(np.var(returns[train_idx]))) if len(train_idx) else value_coef
    fitted = fit(policy, ds, returns, train_idx, val_idx, cfg, epochs=epochs, batch_size=batch_size,
                 learning_rate=learning_rate, value_coef=value_weight, rng=rng, progress=progress, log=log,
                 seq_len=seq_len)
    train_acc, train_loss, val_acc, val_loss, history = (fitted[k] for k in (
        "train_accuracy", "train_loss", "val_accuracy", "val_loss", "history"))
    log(f"train accuracy {train_acc:.3f}" + (f", validation accuracy {val_acc:.3f}" if val_acc is not None else "")
        + f" ({len(train_idx)} / {len(val_idx)} steps)")

    report = {
        "dataset": str(ds.path), "game": cfg.game, "action_set": ds.meta.get("action_set"),
        "combos": ds.meta["combos"], "train_steps": int(len(train_idx)), "val_steps": int(len(val_idx)),
        "train_accuracy": train_acc, "train_loss": train_loss, "val_accuracy": val_acc, "val_loss": val_loss,
        "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate, "value_coef": value_coef,
        "seed": seed, "precision": cfg.precision, "warning": warning, "algo": cfg.algo, "seq_len": seq_len,
        "history": history,
    }
    if as_zip:
        run_dir, ckpt = None, out
        save_checkpoint(model, ckpt)
    else:
        run_dir = out
        run_dir.mkdir(parents=True)
        (run_dir / "checkpoints").mkdir()
        ckpt = run_dir / "checkpoints" / "latest.zip"
        save_checkpoint(model, ckpt)
        write_yaml_atomic(run_dir / "config.yaml", cfg.to_dict())
        atomic_write(run_dir / "bc.json", json.dumps(report, indent=1).encode())
    log(f"checkpoint: {ckpt}")
    return BCResult(checkpoint=ckpt, run_dir=run_dir, train_accuracy=train_acc, val_accuracy=val_acc, history=history,
                    train_steps=int(len(train_idx)), val_steps=int(len(val_idx)), config=cfg)


def _fit_recurrent(policy, ds, returns, train_idx, val_idx, cfg, *, epochs, batch_size, learning_rate, value_coef,
                   rng, progress, log, seq_len) -> dict:
    """Fit a recurrent policy by :func:`~emurl.train.bc_fit.fit_sequences`, with a progress bar."""
    train = np.zeros(len(ds), bool)
    train[train_idx] = True
    sequences = sum(len(range(0, int(train[e].sum()), seq_len)) for e in ds.episodes())
    per_epoch = -(-sequences // max(1, batch_size // seq_len))
    with tqdm(total=epochs * per_epoch, unit="batch", desc="behaviour cloning", disable=not progress) as bar:
        return fit_sequences(policy, ds.obs, ds.actions, returns, ds.episodes(), train_idx, val_idx, seq_len=seq_len,
                             epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, value_coef=value_coef,
                             max_grad_norm=cfg.max_grad_norm or 10.0, rng=rng,
                             log=bar.write if progress and log is print else log, tick=lambda: bar.update(1))


def action_probabilities(checkpoint_or_model, obs: np.ndarray, episode_starts: np.ndarray | None = None) -> np.ndarray:
    """float32 (N, A): the action probabilities of a PPO or RecurrentPPO checkpoint (path) or
    model on uint8 observations (N, *observation shape). A recurrent policy plays them in
    order, its LSTM state carried from a zero state and reset where ``episode_starts`` (bool
    (N,)) is set (:func:`~emurl.train.bc_fit.sequence_probabilities`)."""
    model = checkpoint_or_model
    if isinstance(model, (str, os.PathLike)):
        with zipfile.ZipFile(model) as z:  # the policy's class says which algorithm saved it
            recurrent = "recurrent" in json.loads(z.read("data"))["policy_class"].get("__module__", "")
        model = (RecurrentPPO if recurrent else PPO).load(str(model), device="cpu")
    policy = model.policy
    if hasattr(policy, "lstm_actor"):
        return sequence_probabilities(policy, obs, episode_starts)
    policy.set_training_mode(False)
    with torch.no_grad():
        dist = policy.get_distribution(torch.as_tensor(np.asarray(obs)).to(policy.device)).distribution
        return dist.probs.float().cpu().numpy()


__all__ = ["DATASET_ENV_FIELDS", "BCResult", "action_probabilities", "behaviour_clone", "discounted_returns",
           "split_steps", "train_config_for"]
