"""The 6502-sized features of a Dr. Mario-like placement env, and its rule-based player's
choice, for distilling a policy into a decision tree: :class:`TreeFeaturesInfo`.

The features are game logic and live with the integration
(:mod:`emurl.games.drmario.tree_features`); this wrapper hands them to the trainer, which
may not import ``emurl.games`` (contract train-blind), as ``info["tree_features"]``.
:func:`seat_tree_features` is the same function for a placement opponent's ``choose``
(whose ``values`` are the step's variables).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from emurl.games.drmario.tree_features import NAMES, N_FEATURES, seat_features
from emurl.wrappers.placement import _SeatReader  # the one reader of a seat's placement variables


def seat_tree_features(values, seat: int) -> np.ndarray:
    """uint8 (32, :data:`N_FEATURES`): the tree features of seat ``seat`` (0: player 1) from the
    step's variables (see :mod:`emurl.games.drmario.tree_features`)."""
    return seat_features(values, seat)


class TreeFeaturesInfo(gym.Wrapper):
    """Add ``info["tree_features"]`` (uint8 (32, :data:`N_FEATURES`): a row per placement, :data:`NAMES`) to every reset and step of a
    placement env (:class:`~emurl.wrappers.placement.PlacementActions` on ``MiniDoc-Nes`` or
    ``DrMario-Nes``), and :meth:`greedy` (the integration's rule-based player's placement
    for the piece now).

    Args:
        env: ``emurl.make(game, action_set="placement", obs_type="features", ...)``.
        seat: whose side (0: player 1; the placement env's seat).

    Raises:
        ValueError: the env's integration declares no placement actions.
    """

    names = NAMES
    n_features = N_FEATURES

    def __init__(self, env: gym.Env, seat: int = 0):
        super().__init__(env)
        self._reader = _SeatReader(env, "TreeFeaturesInfo")
        self.seat = seat
        self._values: dict = {}

    def _add(self, info: dict) -> dict:
        self._values = self._reader(info)
        info["tree_features"] = seat_features(self._values, self.seat)
        return info

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return obs, self._add(info)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, self._add(info)

    def greedy(self) -> int | None:
        """The rule-based player's placement for the piece under control now (None: none is)."""
        return self._reader.placements.greedy(self._values, self.seat)


__all__ = ["TreeFeaturesInfo", "seat_tree_features"]
