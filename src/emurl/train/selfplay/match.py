"""One game between two placement players on a two-seat env: a pool's policies, ``"random"``
(a random reachable placement) or ``"greedy"`` (the integration's rule-based player).

:class:`Match` holds the env (one emulator: one per process) and the players' loaded
policies; :meth:`Match.play` plays a game from a seeded start and says how it ended for
seat 0. Both the league (:mod:`emurl.train.selfplay.league`) and ``emurl selfplay``'s
match video use it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import numpy as np

from emurl.envs import EmulatorEnv, EnvSpec
from emurl.envs.spec import PLACEMENT, placement_frame_set
from emurl.train.selfplay.opponent import _Policies
from emurl.wrappers.placement import PlacementOpponent
from emurl.wrappers.tree_features import policy_placement

MAX_FRAMES = 60 * 60 * 10
"""Frames before a game is called a draw (ten minutes of game time at 60 frames/s)."""

RESULT = {"win": 1.0, "loss": 0.0, "topout": 0.0, "draw": 0.5}
"""Seat 0's score by its scenario's ``end`` (a top-out is a loss)."""


def two_seat_env(spec: EnvSpec, render: bool = False) -> EmulatorEnv:
    """The frame-level two-seat env of ``spec``'s game, state and scenario on which placement
    players play each other: the integration's placement action set, frame skip 1, each
    seat's ``features`` observation.

    Raises:
        ConfigError: the game declares no placement actions; and what ``EmulatorEnv`` raises.
    """
    return EmulatorEnv(spec.game, state=spec.state, scenario=spec.scenario, obs_type="features", players=2,
                       action_set=placement_frame_set(spec), frame_skip=1, max_pool=False, noop_max=0, backend=spec.backend,
                       game_path=spec.game_path, render_mode="rgb_array" if render else None)


class Match:
    """Games between placement players on one two-seat env.

    Args:
        spec: the self-play run's env settings (game, state, scenario; ``action_set`` must be
            ``"placement"``).
        pool_dir: where players named by a policy file (relative) are found.
        render: keep screens for :meth:`frames`.
    """

    def __init__(self, spec: EnvSpec, pool_dir: str | os.PathLike | None = None, render: bool = False):
        if spec.action_set != PLACEMENT:
            raise ValueError(f"{spec.game}: a match is between placement players; the spec's action_set is "
                             f"{spec.action_set!r}")
        self.env = two_seat_env(spec, render)
        self.env.observe_steps = False  # the players observe for themselves, once per capsule
        self.pool_dir = Path(pool_dir) if pool_dir else None
        self._policies = _Policies(keep=8)
        self.rng = np.random.default_rng(0)
        self.end = ""

    def _player(self, name: str, seat: int) -> PlacementOpponent:
        if name == "greedy":
            return PlacementOpponent(self.env, seat)
        if name == "random":
            def choose(obs, mask, values):
                allowed = np.flatnonzero(mask)
                return int(self.rng.choice(allowed)) if allowed.size else 0
            return PlacementOpponent(self.env, seat, choose)
        path = Path(name)
        if not path.suffix:
            path = path.with_suffix(".zip")
        if not path.is_absolute() and self.pool_dir is not None:
            path = self.pool_dir / path
        model = self._policies.get(path)

        def choose(obs, mask, values):
            return policy_placement(model, obs, mask, values, seat, deterministic=True)
        return PlacementOpponent(self.env, seat, choose)

    def play(self, seat0: str, seat1: str, seed: int, max_frames: int = MAX_FRAMES) -> str:
        """One game; returns seat 0's end: ``"win"``, ``"loss"``, ``"topout"`` or ``"draw"``
        (also when ``max_frames`` pass first).

        Args:
            seat0, seat1: ``"random"``, ``"greedy"``, or a policy file (an SB3 MaskablePPO
                zip; relative names are in the pool folder, ``.zip`` optional).
            seed: the start's seed (the virus layout): the same seed, the same game.
        """
        for _ in self.frames(seat0, seat1, seed, max_frames):
            pass
        return self.end

    def frames(self, seat0: str, seat1: str, seed: int, max_frames: int = MAX_FRAMES) -> Iterator[np.ndarray]:
        """:meth:`play`, yielding each frame's screen (uint8 H×W×3; the env must render);
        :attr:`end` holds the result once it is exhausted."""
        self.rng = np.random.default_rng(seed)
        players = (self._player(seat0, 0), self._player(seat1, 1))
        _, info = self.env.reset(seed=seed)
        self.end = "draw"
        for _ in range(max_frames):
            actions = (players[0](None, info), players[1](None, info))
            _, _, terminated, _, info = self.env.step(actions)
            if self.env.render_mode is not None:
                yield self.env.render()
            if terminated:
                self.end = info["seats"][0].get("end") or "draw"
                return

    def close(self) -> None:
        self.env.close()


__all__ = ["MAX_FRAMES", "Match", "RESULT", "two_seat_env"]
