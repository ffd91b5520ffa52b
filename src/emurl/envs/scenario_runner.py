"""How an :class:`~emurl.envs.EmulatorEnv` runs its scenario (reward and episode end) in the
form the integration wrote it, and which variables the env reads each step for it:

- a table (``scenario.json``'s ``reward`` and ``done``): a
  :class:`~emurl.games.scenario.ScenarioState`, updated every frame from the variables it
  names (with several players, each seat's: :class:`~emurl.envs.seats.Seats`);
- a Python class beside the data (the scenario's ``"python"``; one player): asked once an
  agent step, after its last frame; it may read any variable, so every variable is read;
- Lua (stable-retro's ``"scripts"``; one player): run by stable-retro's ``GameData`` on the
  emulator's memory, so only on the ``retro`` backend; no variable is read for it.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np

from emurl.errors import IntegrationError
from emurl.games.scenario import ScenarioState
from emurl.games.variables import VariableReader


def lua_game_data(emulator, integration, scenario):
    """stable-retro's ``GameData`` of ``emulator`` with ``scenario`` (a Lua one) loaded.

    Raises:
        IntegrationError: the backend runs no Lua (only stable-retro's does), or stable-retro
            could not load the scenario.
    """
    gd = getattr(emulator, "game_data", None)
    if gd is None:
        raise IntegrationError(
            f"{scenario.path}: this scenario is written in Lua, which only the "
            "stable-retro backend runs; use backend='retro'"
        )
    if not gd.load(str(integration.data_file), scenario.path):
        raise IntegrationError(f"{scenario.path}: stable-retro could not load this Lua scenario")
    return gd


class ScenarioRunner:
    """An env's scenario in its form, and the variables read for it each agent step.

    Args:
        emulator: the env's emulator (a Lua scenario runs on its ``game_data``).
        integration: the env's :class:`~emurl.games.Integration`.
        scenarios: one :class:`~emurl.games.scenario.Scenario` per seat.
        seats: the env's :class:`~emurl.envs.seats.Seats` (several players), else None.

    Attributes:
        python: the Python scenario's object (one player), else None.
        game_data: stable-retro's ``GameData`` running the Lua scenario (one player), else None.
        needed: the :class:`~emurl.games.variables.Variable` s read each step: those the
            seats' tables name, in order; every variable (``data.json`` order) for a Python
            scenario; none for Lua.
        reader: a :class:`~emurl.games.variables.VariableReader` of ``needed``.
        table: seat 0's :class:`~emurl.games.scenario.ScenarioState`.
        info_type: the ``TypedDict`` of a step's ``info``: each needed variable's name to
            ``np.ndarray`` (array variables), ``float`` (scaled ones) or ``int``.

    Raises:
        IntegrationError: a Lua scenario the backend can't run (:func:`lua_game_data`), or a
            Python class that can't be loaded.
    """

    def __init__(self, emulator, integration, scenarios, seats=None):
        scen = scenarios[0]
        self.seats = seats
        self.python = scen.load_python() if seats is None else None
        lua = scen.lua and self.python is None and seats is None
        self.game_data = lua_game_data(emulator, integration, scen) if lua else None
        needed = [] if lua else [n for s in scenarios for n in s.needed_variables()]
        self.needed = [integration.variables[n] for n in dict.fromkeys(needed)]
        if self.python is not None or (seats is not None and not seats.table):
            self.needed = list(integration.variables.values())  # the module may read any variable
        # planned once: the fields of a struct share its pointer, followed once a step
        self.reader = VariableReader(self.needed)
        self.table = ScenarioState(scen)
        self.info_type = TypedDict(f"{integration.name.replace('-', '_')}Info", {
            v.name: np.ndarray if v.shape else float if v.scale else int for v in self.needed})

    def restart(self, values: dict) -> None:
        """Start the scenario (its deltas, the Python class, every seat's) from ``values``,
        the variables read now (an episode's start, a restored savestate)."""
        self.table.reset(values)
        if self.python is not None:
            self.python.reset(values)
        if self.seats is not None:
            self.seats.reset(values)


__all__ = ["ScenarioRunner", "lua_game_data"]
