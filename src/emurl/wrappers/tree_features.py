"""The 6502-sized features of a Dr. Mario-like placement env, and its rule-based player's
choice, for distilling a policy into a decision tree: :class:`TreeFeaturesInfo`.

The features are game logic and live with the integration
(:mod:`emurl.games.drmario.tree_features`); this wrapper hands them to the trainer, which
may not import ``emurl.games`` (contract train-blind), as ``info["tree_features"]``.
:func:`seat_tree_features` is the same function for a placement opponent's ``choose``
(whose ``values`` are the step's variables).

The same rows can be part of the observation itself, for a policy that scores each
placement from its row (``EnvSpec(placement_features=True)``, the ``placement_scorer``
policy of :mod:`emurl.train.placement_policy`): :class:`PlacementFeaturesObservation` adds
them to a placement env's ``Dict`` observation under :data:`KEY`, and
:func:`with_placements` adds them to a placement opponent's observation of its own seat
where the policy that plays it was trained with them.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from emurl.games.drmario.tree_features import NAMES, N_FEATURES, N_PLACEMENTS, seat_features
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


KEY = "placements"
"""The observation key of the placement rows: uint8 (32, :data:`N_FEATURES`), row
``column * 4 + rotation`` as the placement action, columns :data:`NAMES`."""


def placements_space() -> gym.spaces.Box:
    """``Box(0, 255, (32, N_FEATURES), uint8)``: the space of :data:`KEY` (each feature is one
    byte; their own ranges are in :mod:`emurl.games.drmario.tree_features`)."""
    return gym.spaces.Box(0, 255, (N_PLACEMENTS, N_FEATURES), np.uint8)


def with_placements(space: gym.Space, observation, values, seat: int):
    """``observation`` (a seat's ``Dict`` observation, as a placement opponent gets it) as a
    policy whose observation space is ``space`` sees it: with :data:`KEY` (seat ``seat``'s rows
    from the step's ``values``) when ``space`` has that key, else unchanged. So a checkpoint
    trained with ``placement_features`` plays a snapshot seat, a league game or a match from
    the same observation it was trained on, and one trained without it is not sent them."""
    if isinstance(space, gym.spaces.Dict) and KEY in space.spaces and isinstance(observation, dict):
        return {**observation, KEY: seat_features(values, seat)}
    return observation


def policy_placement(model, observation, mask, values, seat: int, deterministic: bool = False) -> int:
    """The placement (0-31) that ``model`` (an sb3-contrib MaskablePPO) chooses for seat
    ``seat`` from a placement opponent's ``observation``, ``mask`` (bool (32,), the reachable
    placements) and the step's ``values``, its observation completed by :func:`with_placements`:
    how a checkpoint plays a seat of a two-player game, as an opponent, a pool snapshot or a
    league player."""
    observation = with_placements(model.observation_space, observation, values, seat)
    return int(model.predict(observation, action_masks=mask, deterministic=deterministic)[0])


class PlacementFeaturesObservation(gym.Wrapper):
    """Add :data:`KEY` (uint8 (32, :data:`N_FEATURES`): each placement's tree features, of the
    env's seat, for the piece under control) to the ``Dict`` observation of a placement env.

    Args:
        env: a placement env on features (``action_set="placement"``, ``obs_type="features"``;
            :class:`~emurl.wrappers.placement.PlacementActions` outermost): what
            :func:`emurl.envs.build_env` wraps when ``placement_features`` is set.
        seat: the placement env's seat (0: player 1).

    Costs one :func:`~emurl.games.drmario.tree_features.seat_features` per decision (Python):
    1.0 ms mean, 0.7 ms median over 198 decisions on this project's 2-core machine at load ~5,
    about 3% of the 31 ms a placement step against the greedy opponent took there.

    Raises:
        ValueError: the env's observation is not a ``Dict``, or its integration declares no
            placement actions.
    """

    def __init__(self, env: gym.Env, seat: int = 0):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Dict):
            raise ValueError(f"placement features go into a Dict observation (obs_type='features'), got {space}")
        self._reader = _SeatReader(env, "PlacementFeaturesObservation")
        self.seat = seat
        self.observation_space = gym.spaces.Dict({**space.spaces, KEY: placements_space()})

    def _observe(self, obs, info: dict):
        return {**obs, KEY: seat_features(self._reader(info), self.seat)}

    def observation(self):
        """The observation now, rows included (as :meth:`emurl.envs.EmulatorEnv.observation`)."""
        return self._observe(self.env.get_wrapper_attr("observation")(), {})  # {}: read the variables now

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return self._observe(obs, info), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._observe(obs, info), reward, terminated, truncated, info


__all__ = ["KEY", "PlacementFeaturesObservation", "TreeFeaturesInfo", "placements_space", "seat_tree_features",
           "policy_placement", "with_placements"]
