"""Two players on one emulator as a PettingZoo ``ParallelEnv``: agents ``player_0`` and
``player_1``, each with its own action (on its own controller port), reward and info.

>>> from emurl.envs import make_parallel
>>> env = make_parallel("MiniDoc-Nes", action_set="frame")    # our NES versus game (its ROM ships)
>>> env.possible_agents, env.action_space("player_1")
(['player_0', 'player_1'], Discrete(12))
>>> env.close()
"""

from __future__ import annotations

import functools

import gymnasium as gym
from pettingzoo import ParallelEnv

from emurl.envs.emulator_env import EmulatorEnv


class VersusEnv(ParallelEnv):
    """A PettingZoo ``ParallelEnv`` over an :class:`EmulatorEnv` with ``players=2``.

    Both agents observe what the env observes (the shared screen, RAM or variables); seat
    ``p`` presses port ``p`` and is paid by its seat's scenario (:mod:`emurl.envs.seats`).
    An episode ends for both at once: ``terminations`` when the game's scenario says so,
    ``truncations`` after ``max_episode_steps`` agent steps.

    Args:
        env: the two-seat env (``EmulatorEnv(..., players=2)``); closed with this one.
        max_episode_steps: truncate after this many steps (None: never).
    """

    metadata = {"name": "emurl_versus_v0", "render_modes": ["rgb_array"], "is_parallelizable": True}

    def __init__(self, env: EmulatorEnv, max_episode_steps: int | None = None):
        if env.players != 2:
            raise ValueError(f"{env.game}: VersusEnv needs an env with players=2, got players={env.players}")
        self.env = env
        self.possible_agents = ["player_0", "player_1"]
        self.agents: list[str] = []
        self.max_episode_steps = max_episode_steps
        self.render_mode = env.render_mode
        self._steps = 0
        self._per_seat = env._observer.per_seat  # each seat its own observation (features)

    @functools.lru_cache(maxsize=None)
    def observation_space(self, agent: str) -> gym.Space:
        space = self.env.observation_space
        return space[self.possible_agents.index(agent)] if self._per_seat else space

    @functools.lru_cache(maxsize=None)
    def action_space(self, agent: str) -> gym.Space:
        return self.env.button_space

    def reset(self, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        self._steps = 0
        return self._split(obs), {a: dict(info) for a in self.agents}

    def _split(self, obs) -> dict:
        return {a: obs[p] if self._per_seat else obs for p, a in enumerate(self.agents)}

    def step(self, actions: dict):
        obs, _, terminated, _, info = self.env.step((actions["player_0"], actions["player_1"]))
        self._steps += 1
        truncated = not terminated and self.max_episode_steps is not None and self._steps >= self.max_episode_steps
        rewards = info.pop("rewards")
        seats = info.pop("seats", [{}, {}])
        agents = self.agents
        infos = {a: {**info, **seats[p]} for p, a in enumerate(agents)}
        out = (self._split(obs), {a: float(rewards[p]) for p, a in enumerate(agents)},
               {a: terminated for a in agents}, {a: truncated for a in agents}, infos)
        if terminated or truncated:
            self.agents = []
        return out

    def render(self):
        return self.env.render()

    def state(self):
        return self.env.render()

    def close(self) -> None:
        self.env.close()


__all__ = ["VersusEnv"]
