"""The rules of a training config's settings: the values each number allows (:data:`RANGES`)
and which settings a resume may change (:data:`RESUMABLE`). :class:`~emurl.train.config.TrainConfig`
applies them; ``emurl.train.config`` re-exports all three names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """The values a numeric setting allows: from ``low`` to ``high`` (None: unbounded),
    ``low`` itself excluded when ``open_low``; whole numbers when ``integer``. NaN and
    infinities are never allowed.

    >>> str(Range(0, 1, open_low=True, integer=False))
    'a number > 0 and <= 1'
    >>> 0 in Range(1), 3 in Range(1)
    (False, True)
    """

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    integer: bool = True

    def __contains__(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.integer and not float(value).is_integer():
            return False
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        return self.high is None or value <= self.high

    def __str__(self) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.open_low else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"<= {self.high:g}")
        return ("a whole number " if self.integer else "a number ") + " and ".join(parts)


RANGES: dict[str, Range] = {
    "total_steps": Range(1),
    "num_envs": Range(1, 1024),  # each env is a process; thousands would exhaust the machine, not train faster
    "seed": Range(0, 2**31 - 1),  # numpy seeds are below 2**32, and env i gets seed + i
    "learning_rate": Range(0, 1, integer=False),  # 0: the policy stays as it is (a check that a checkpoint continues)
    "gamma": Range(0, 1, open_low=True, integer=False),
    "n_steps": Range(1),
    "batch_size": Range(1),
    "n_epochs": Range(1),
    "gae_lambda": Range(0, 1, integer=False),
    "clip_range": Range(0, 1, open_low=True, integer=False),
    "ent_coef": Range(0, integer=False),
    "vf_coef": Range(0, integer=False),
    "max_grad_norm": Range(0, open_low=True, integer=False),
    "buffer_size": Range(1),
    "learning_starts": Range(0),
    "train_freq": Range(1),
    "target_update_interval": Range(1),
    "exploration_fraction": Range(0, 1, integer=False),
    "exploration_final_eps": Range(0, 1, integer=False),
    "checkpoint_every": Range(0),
    "keep_checkpoints": Range(0),
    "eval_every": Range(0),
    "eval_episodes": Range(1),
    "eval_max_steps": Range(1),
    "torch_threads": Range(0),
    "self_play": Range(0, 1, integer=False),
    "pool_size": Range(1),
    "snapshot_every": Range(1),
    "lstm_hidden_size": Range(1, 4096),  # the LSTM's weights grow with its square: 4096 is ~134M per layer
    "lstm_layers": Range(1, 8),
    # the env's numbers, checked here for training (EnvSpec checks frame_skip and players itself)
    "frame_skip": Range(1),
    "noop_max": Range(0),
    "max_episode_steps": Range(1),  # or none: never truncated
    "screen_size": Range(1),
    "frame_stack": Range(1),
}
"""Every number of a training config and the values it allows (:class:`~emurl.train.config.TrainConfig`
checks them; a value outside is a ConfigError naming the setting, the value and the range)."""

RESUMABLE = frozenset({
    # the run's length and bookkeeping: nothing the policy learned depends on them
    "total_steps", "checkpoint_every", "keep_checkpoints", "eval_every", "eval_episodes", "eval_max_steps",
    "eval_deterministic", "video", "torch_threads", "device",
    # the learner's settings emurl hands to the loaded model (model.load_model(resume=True))
    "num_envs", "learning_rate", "lr_schedule", "ent_coef",
    # where episodes start and end: the same observations and actions, another curriculum
    "state", "start_states", "noop_max", "max_episode_steps",
    # where integrations are found and what render() gives: not what the agent sees
    "game_path", "render_mode",
    # who the opponents are: the pool keeps its results, the policy its weights
    "self_play", "pool_size", "snapshot_every", "pool_sampling", "pool_anchors",
})
"""The settings ``emurl train --resume RUN`` may change. Every other one is the run's: it
makes the checkpoint's observations, actions, rewards or network (game, algo, obs_type,
frame_stack, action_set, frame_skip, pipeline, precision, lstm_hidden_size, ...), is baked into the saved
learner (gamma, n_steps, batch_size, buffer_size, ...: Stable-Baselines3 restores them from
the checkpoint, so a new value would be silently ignored), or names the run (seed,
runs_dir). Changing one of those is a new run (:func:`~emurl.train.config.check_resume` says how)."""


__all__ = ["RANGES", "RESUMABLE", "Range"]
