"""Two agents choosing placements on one emulator, each when its own piece needs a decision:
a PettingZoo ``AECEnv`` (agents ``player_0``, ``player_1``).

A placement is decided once per piece, and the two seats' pieces appear at different
frames, so the agents do not act in lockstep (a ``ParallelEnv`` would make both act at
once). Between decisions the env runs frames: each seat's planner presses the frames to
its seat's last chosen placement (:class:`~emurl.wrappers.placement.PlacementOpponent`),
and the env stops at the first frame where a seat's new piece is under control; that
seat's agent is then ``agent_selection``. Rewards are each seat's scenario's, summed over
the frames since that agent last acted (PettingZoo's cumulative rewards).

Observations are ``{"observation": <the seat's features>, "action_mask": bool (n,)}``
(PettingZoo's convention for masked actions), the mask being the placements the piece can
reach now.

>>> from emurl.envs import make_aec
>>> env = make_aec("MiniDoc-Nes", state="2P_L0_Low")
>>> env.reset(seed=0)
>>> obs, reward, terminated, truncated, info = env.last()
>>> env.agent_selection, obs["action_mask"].shape
('player_0', (32,))
>>> env.close()
"""

from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
from pettingzoo import AECEnv

from emurl.envs.emulator_env import EmulatorEnv
from emurl.wrappers.placement import MAX_FRAMES, PlacementOpponent


class PlacementTurns(AECEnv):
    """The turn-based placement env (see the module docstring).

    Args:
        env: a two-seat :class:`EmulatorEnv` at frame skip 1 on the integration's placement
            action set (frame-level button combos) with each seat's ``features`` observation;
            closed with this one.
        max_episode_steps: truncate after this many decisions in all (None: never).

    Raises:
        ValueError: the game declares no placement actions, or ``env`` is not two-seat.
    """

    metadata = {"name": "emurl_placement_turns_v0", "render_modes": ["rgb_array"], "is_parallelizable": False}

    def __init__(self, env: EmulatorEnv, max_episode_steps: int | None = None):
        super().__init__()
        if env.players != 2:
            raise ValueError(f"{env.game}: PlacementTurns needs an env with players=2, got players={env.players}")
        env.observe_steps = False  # observed at decisions only
        self.env = env
        self.render_mode = env.render_mode
        self.planners = [PlacementOpponent(env, seat, choose=self._no_choice) for seat in (0, 1)]
        self.n = self.planners[0].placements.n
        self.possible_agents = ["player_0", "player_1"]
        self.max_episode_steps = max_episode_steps
        self._info: dict = {}
        self._found: list = [None, None]
        self._queue: list[int] = []
        self._decisions = 0

    @staticmethod
    def _no_choice(observation, mask, values) -> int:  # decisions come from the agents, never from here
        raise AssertionError("a seat needed a placement the env did not ask its agent for")

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent: str) -> gym.Space:
        space = self.env.observation_space
        seat = space[self.possible_agents.index(agent)] if isinstance(space, gym.spaces.Tuple) else space
        return gym.spaces.Dict({"observation": seat, "action_mask": gym.spaces.MultiBinary(self.n)})

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent: str) -> gym.Space:
        return gym.spaces.Discrete(self.n)

    def observe(self, agent: str) -> dict:
        seat = self.possible_agents.index(agent)
        obs = self.env.observation()
        found = self._found[seat]
        mask = found.mask.astype(np.int8) if found is not None and found.mask.any() else np.ones(self.n, np.int8)
        return {"observation": obs[seat] if isinstance(obs, tuple) else obs, "action_mask": mask}

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        _, self._info = self.env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self.planners = [PlacementOpponent(self.env, seat, choose=self._no_choice) for seat in (0, 1)]
        self._found, self._queue, self._decisions = [None, None], [], 0
        self._run()

    def step(self, action) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        seat = self.possible_agents.index(agent)
        self._cumulative_rewards[agent] = 0.0
        self.rewards = {a: 0.0 for a in self.agents}
        self.planners[seat].place(self._info, int(action), self._found[seat])
        self._found[seat] = None
        self._queue.remove(seat)
        self._decisions += 1
        if self.max_episode_steps is not None and self._decisions >= self.max_episode_steps:
            self.truncations = {a: True for a in self.agents}
        else:
            self._run()
        self._accumulate_rewards()

    def _run(self) -> None:
        """Frames until a seat needs a decision (it becomes ``agent_selection``) or the game ends."""
        for _ in range(MAX_FRAMES):
            for seat, planner in enumerate(self.planners):
                if seat not in self._queue:
                    found = planner.needs_placement(self._info)
                    if found is not None:
                        self._found[seat] = found
                        self._queue.append(seat)
            if self._queue:
                self.agent_selection = self.possible_agents[self._queue[0]]
                return
            actions = tuple(planner(None, self._info) for planner in self.planners)
            _, _, terminated, _, self._info = self.env.step(actions)
            for agent, r in zip(self.possible_agents, self._info["rewards"]):
                self.rewards[agent] += float(r)
            if terminated:
                seats = self._info.get("seats") or [{}, {}]
                self.infos = {a: dict(seats[p]) for p, a in enumerate(self.possible_agents)}
                self.terminations = {a: True for a in self.agents}
                return
        self.truncations = {a: True for a in self.agents}  # no piece for MAX_FRAMES frames: a game that stalled

    def render(self):
        return self.env.render()

    def close(self) -> None:
        self.env.close()


__all__ = ["PlacementTurns"]
