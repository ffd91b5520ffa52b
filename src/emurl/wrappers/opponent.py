"""One seat of a two-player env for a single agent: :class:`OpponentSeat` plays the other."""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym


class OpponentSeat(gym.Wrapper):
    """The agent plays seat 0 of a two-seat env; ``opponent`` plays seat 1.

    Args:
        env: an env whose action is a tuple ``(seat 0's, seat 1's)`` and whose info holds
            ``"rewards"`` (emurl's ``EmulatorEnv(players=2)``).
        opponent: ``"random"`` (uniform over seat 1's actions, seeded by ``reset(seed=)``),
            a callable ``(observation, info) -> action``, or an object with SB3's
            ``predict(observation)`` (a loaded checkpoint's policy, run on the CPU here).

    The reward is seat 0's; ``info["opponent_reward"]`` is seat 1's, and seat 0's own
    scenario info (e.g. ``"win"``) is at the top of ``info``. Observations are the env's
    (the same screen for both), or seat 0's where each seat has its own (features).

    Raises:
        ValueError: ``env`` has no second seat, or ``opponent`` is of no known kind.
    """

    def __init__(self, env: gym.Env, opponent: str | Callable | Any):
        super().__init__(env)
        space = env.action_space
        if not isinstance(space, gym.spaces.Tuple) or len(space) != 2:
            raise ValueError(f"OpponentSeat needs a two-seat env (Tuple action space), got {space}")
        self.action_space = space[0]
        self._seat_space = space[1]
        obs_space = env.observation_space
        # each seat its own observation (a Tuple, e.g. Dr. Mario's planes): the agent sees seat 0's
        self._per_seat = isinstance(obs_space, gym.spaces.Tuple) and len(obs_space) == 2
        if self._per_seat:
            self.observation_space = obs_space[0]
        if opponent == "random":
            self._act = lambda obs, info: self._seat_space.sample()
        elif callable(getattr(opponent, "predict", None)):
            self._act = lambda obs, info: opponent.predict(obs, deterministic=False)[0]
        elif callable(opponent):
            self._act = opponent
        else:
            raise ValueError(f"opponent must be 'random', a callable (observation, info) -> action, or a policy "
                             f"with predict(); got {opponent!r}")
        self._last: tuple = (None, {})

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        if seed is not None:
            self._seat_space.seed(seed + 1)
        self._last = (obs, info)
        return (obs[0] if self._per_seat else obs), info

    def step(self, action):
        obs, info = self._last
        reply = self._act(obs[1] if self._per_seat else obs, info)
        obs, reward, terminated, truncated, info = self.env.step((action, reply))
        info["opponent_reward"] = info["rewards"][1]
        seats = info.get("seats")
        if seats:  # a Python scenario's info of each seat: the agent's at the top (e.g. "win")
            info.update(seats[0])
        self._last = (obs, info)
        return (obs[0] if self._per_seat else obs), reward, terminated, truncated, info


__all__ = ["OpponentSeat"]
