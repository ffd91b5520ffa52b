"""Who plays the other seat of a one-agent view of a two-player game, by name: ``"random"``,
``"greedy"`` (the integration's rule-based placement player), or a policy checkpoint (an
SB3 ``.zip``: a past run of emurl's, e.g. ``runs/<run>/checkpoints/latest.zip``).

A checkpoint plays from its own seat's observation: on a game with placement actions it
chooses placements (sb3-contrib's MaskablePPO, masked to the reachable ones) that
:class:`~emurl.wrappers.placement.PlacementOpponent` presses frame by frame; otherwise it is
an SB3 PPO policy acting on each step, through :class:`~emurl.wrappers.opponent.OpponentSeat`.
"""

from __future__ import annotations

import os

import gymnasium as gym

from emurl.errors import ConfigError
from emurl.wrappers.placement import GreedyOpponent, PlacementOpponent
from emurl.wrappers.tree_features import policy_placement

NAMED = (None, "random", "greedy")
"""The named opponents; any other value is a checkpoint file (``.zip``)."""


def is_checkpoint(opponent) -> bool:
    """Whether an ``opponent`` setting names a policy checkpoint (a ``.zip`` path)."""
    return isinstance(opponent, str) and opponent.lower().endswith(".zip")


def opponent_for(env: gym.Env, opponent: str, seat: int, placements: bool):
    """The opponent object for :class:`~emurl.wrappers.opponent.OpponentSeat` on ``env``
    (the two-seat env), playing ``seat``; ``placements``: the game's agents choose placements.

    Raises:
        ConfigError: greedy on a game without placement actions; a checkpoint that is
            missing or that SB3 can't load (names the file).
    """
    if opponent == "random":
        return "random"
    try:
        if opponent == "greedy":
            return GreedyOpponent(env, seat=seat)
        if not os.path.isfile(opponent):
            raise ConfigError(f"opponent {opponent}: no such checkpoint file")
        if placements:
            from sb3_contrib import MaskablePPO  # lazy: PyTorch (~1.5 s), only for a checkpoint opponent

            model = _load(MaskablePPO, opponent)

            return PlacementOpponent(env, seat,
                                     lambda obs, mask, values: policy_placement(model, obs, mask, values, seat))
        from stable_baselines3 import PPO  # lazy: PyTorch (~1.5 s)

        return _load(PPO, opponent)
    except ValueError as e:  # the placement player's own checks
        raise ConfigError(str(e)) from None


def _load(cls, path: str):
    try:
        return cls.load(path, device="cpu")
    except Exception as exc:  # a damaged or foreign zip: SB3 raises what its readers raise
        raise ConfigError(f"opponent {path}: not a {cls.__name__} checkpoint SB3 can load "
                          f"({type(exc).__name__}: {exc})") from None


__all__ = ["NAMED", "is_checkpoint", "opponent_for"]
