"""Several players on one emulator: each seat presses its buttons on its own controller port
and is paid by its own scenario; the episode ends for all at once.

Used by :class:`~emurl.envs.EmulatorEnv` when ``players > 1`` (the one-player step stays
its own, shorter loop). A scenario serves the seats in one of two ways, as stable-retro's
two-player integrations and ours need:

- one table scenario for every seat, whose ``"rewards"`` list holds one reward object per
  player (stable-retro's ``Pong-Atari2600``: seat ``p`` is paid by ``rewards[p]``);
- one scenario per seat (``scenario=["scenario", "scenario_p2"]``; a single name ``x`` picks
  ``x`` and ``x_p2`` where the integration has both), each paying its seat with its first
  reward object or its Python class (a Python scenario serves one seat).

``done`` conditions are the game's: the episode ends on the frame any seat's scenario
says so. Rewards are summed over the frames of a step as for one player.
"""

from __future__ import annotations

from typing import Sequence

from emurl.errors import IntegrationError
from emurl.games.scenario import Scenario, ScenarioState


def seat_scenarios(integration, scenario, players: int) -> list:
    """The scenario of each seat: ``scenario`` itself when a list (one per seat), else that
    name for seat 0 and ``<name>_p<p+1>`` for seat p where the integration has those files
    (a Python scenario pays one seat), else the one name for every seat.

    Raises:
        ValueError: a list whose length is not ``players``.
    """
    if isinstance(scenario, (list, tuple)):
        names = list(scenario)
    else:
        base = scenario or "scenario"
        own = [f"{base}_p{p + 1}" for p in range(1, players)]
        names = [scenario] + (own if all(n in integration.scenarios() for n in own) else [scenario] * (players - 1))
    if len(names) != players:
        raise ValueError(f"scenario: one per seat ({players}), got {len(names)}: {names}")
    return names


class Seats:
    """The per-seat scenario state of an env with ``len(scenarios)`` players.

    Args:
        env: the :class:`~emurl.envs.EmulatorEnv` (its emulator, action map and reader).
        scenarios: one :class:`~emurl.games.scenario.Scenario` per seat (the same object
            for every seat when one scenario pays them all).

    Raises:
        IntegrationError: a Python scenario asked to serve two seats, or a Lua one.
    """

    def __init__(self, env, scenarios: Sequence[Scenario]):
        self.env = env
        self.n = len(scenarios)
        shared = all(s is scenarios[0] for s in scenarios)
        for scen in scenarios:
            if scen.lua and not scen.python:
                raise IntegrationError(f"{scen.path}: a Lua scenario pays one player; for {self.n} players give "
                                       "one JSON or Python scenario per seat")
        self.pythons = [s.load_python() for s in scenarios]
        if shared and self.pythons[0] is not None and self.n > 1:
            raise IntegrationError(f"{scenarios[0].path}: a Python scenario pays one seat; give one scenario per "
                                   "seat, e.g. scenario=['scenario', 'scenario_p2']")
        self.states = [ScenarioState(s, player=p if shared else 0) for p, s in enumerate(scenarios)]
        self.table = all(p is None for p in self.pythons)

    def reset(self, values: dict) -> None:
        for state, python in zip(self.states, self.pythons):
            state.reset(values)
            if python is not None:
                python.reset(values)

    def step(self, actions) -> tuple:
        """One agent step of every seat: ``actions[p]`` on port ``p`` for ``frame_skip``
        frames. Returns ``(obs, reward of seat 0, terminated, False, info)``; ``info`` holds
        the variables, ``"rewards"`` (a list, one float per seat) and, from Python
        scenarios, ``"seats"`` (each seat's own info)."""
        env = self.env
        emu = env.emulator
        if len(actions) != self.n:
            raise ValueError(f"{env.game}: {self.n} players need {self.n} actions, got {len(actions)}")
        for port, action in enumerate(actions):
            emu.set_buttons(env._buttons(action), port)
        rewards = [0.0] * self.n
        terminated = False
        prev_screen = None
        last = env.frame_skip - 1
        values = None
        for i in range(env.frame_skip):
            if i < env._skip_until:
                env._skip_render()
            emu.step()
            if self.table:
                values = env._read()
                for p, state in enumerate(self.states):
                    r, d = state.update(values)
                    rewards[p] += r
                    terminated = terminated or d
                if terminated:
                    break
            if env.max_pool and i == last - 1:
                prev_screen = emu.screen()
        if values is None:
            values = env._read()
        info = dict(values)
        if not self.table:
            seats = []
            for p, (state, python) in enumerate(zip(self.states, self.pythons)):
                if python is None:
                    r, d = state.update(values)
                else:
                    r, d = float(python.reward(values)), bool(python.terminated(values))
                rewards[p] = float(r) if python is not None else rewards[p] + r
                terminated = terminated or d
                seats.append(dict(python.info(values)) if python is not None and hasattr(python, "info") else {})
            info["seats"] = seats
        info["rewards"] = rewards
        env._needs_reset = terminated
        env._values = values
        obs = env._observe(prev_screen if i == last else None, values) if env.observe_steps else None
        return obs, rewards[0], terminated, False, info

    def release(self) -> None:
        """Release every seat's buttons (at reset)."""
        zero = self.env._zero
        for port in range(self.n):
            self.env.emulator.set_buttons(zero, port)


__all__ = ["Seats", "seat_scenarios"]
