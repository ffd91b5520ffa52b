"""One seat of a two-player env for a single agent: :class:`OpponentSeat` plays the other."""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym


class OpponentSeat(gym.Wrapper):
    """The agent plays seat ``seat`` (0 by default) of a two-seat env; ``opponent`` plays the other.

    Args:
        env: an env whose action is a tuple ``(seat 0's, seat 1's)`` and whose info holds
            ``"rewards"`` (emurl's ``EmulatorEnv(players=2)``).
        opponent: ``"random"`` (uniform over seat 1's actions, seeded by ``reset(seed=)``),
            a callable ``(observation, info) -> action``, or an object with SB3's
            ``predict(observation)`` (a loaded checkpoint's policy, run on the CPU here).
            An opponent with a ``reset(seed)`` method is told of each episode's start
            (a self-play pool draws who plays then); one with a ``name`` attribute has it
            reported as ``info["opponent"]`` every step.
        seat: the agent's seat, 0 or 1 (self-play plays both sides of a symmetric game).

    The reward is the agent's seat's; ``info["opponent_reward"]`` is the other's, and the
    agent's own scenario info (e.g. ``"win"``) is at the top of ``info``. Observations are
    the env's (the same screen for both), or the agent's seat's where each seat has its
    own (features); the opponent gets its own seat's.

    Raises:
        ValueError: ``env`` has no second seat, or ``opponent`` is of no known kind.
    """

    def __init__(self, env: gym.Env, opponent: str | Callable | Any, seat: int = 0):
        super().__init__(env)
        space = env.action_space
        if not isinstance(space, gym.spaces.Tuple) or len(space) != 2:
            raise ValueError(f"OpponentSeat needs a two-seat env (Tuple action space), got {space}")
        if seat not in (0, 1):
            raise ValueError(f"seat must be 0 or 1, got {seat!r}")
        self.seat, self.opponent_seat = seat, 1 - seat
        self.action_space = space[seat]
        self._seat_space = space[1 - seat]
        obs_space = env.observation_space
        # each seat its own observation (a Tuple, e.g. Dr. Mario's planes): the agent sees its seat's
        self._per_seat = isinstance(obs_space, gym.spaces.Tuple) and len(obs_space) == 2
        if self._per_seat:
            self.observation_space = obs_space[seat]
        self._opponent_reset = getattr(opponent, "reset", None)
        # an env that does not observe every step (observe_steps off) still observes for an
        # opponent that reads each step's observation; one that observes for itself says so
        self._opponent_observes = opponent != "random" and getattr(opponent, "needs_observation", True)
        self._opponent = opponent
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

    def _mine(self, obs):
        return obs[self.seat] if self._per_seat and obs is not None else obs

    def observation(self):
        """The agent's observation now (see :meth:`emurl.envs.EmulatorEnv.observation`)."""
        return self._mine(self.env.get_wrapper_attr("observation")())

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        if seed is not None:
            self._seat_space.seed(seed + 1)
        if callable(self._opponent_reset):
            self._opponent_reset(seed)
        self._name(info)
        self._last = (obs, info)
        return self._mine(obs), info

    def _name(self, info: dict) -> None:
        name = getattr(self._opponent, "name", None)
        if name is not None:
            info["opponent"] = name

    def step(self, action):
        obs, info = self._last
        me, them = self.seat, self.opponent_seat
        if obs is None and self._opponent_observes:
            obs = self.env.get_wrapper_attr("observation")()
        reply = self._act(obs[them] if self._per_seat and obs is not None else obs, info)
        obs, _, terminated, truncated, info = self.env.step((action, reply) if me == 0 else (reply, action))
        reward = info["rewards"][me]
        info["opponent_reward"] = info["rewards"][them]
        seats = info.get("seats")
        if seats:  # a Python scenario's info of each seat: the agent's at the top (e.g. "win")
            info.update(seats[me])
        self._name(info)
        self._last = (obs, info)
        return self._mine(obs), reward, terminated, truncated, info


__all__ = ["OpponentSeat"]
