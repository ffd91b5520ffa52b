"""Super Mario Kart's two race scenarios: the founding plan's and the community's.

The integration's scenario files name ``"python": "smk.py:Race"`` (``scenario.json``, the
founding plan's) or ``"python": "smk.py:CommunityRace"`` (``scenario_community.json``);
``smk.py`` beside them re-exports these classes. Their options come from the file's
``"race"`` object (:class:`RaceOptions`, :class:`CommunityOptions`). The env calls them once
per agent step with the variables at the end of the step (:mod:`emurl.games.scenario`).

Game facts (docs/facts/super-mario-kart.md, from the community gym-retro integration
esteveste/gym-SuperMarioKart-Snes, the MarIQ notes and DataCrystal's RAM map):

- progress in checkpoints = ``checkpoint + laps_done × checkpoints_per_lap``, with
  ``laps_done = lap − 128`` (the lap byte reads 128 + laps completed);
- ``surface``: 64 road, 84 off-road, 128 wall hit, 32 / 34 / 40 a fall or deep water;
- ``backwards``: bit 0x10 of 0x010B, set while driving the wrong way;
- ``game_mode`` 0x1C while racing;
- the race timer: BCD minutes, seconds, hundredths.

**Race** (the founding plan's), per agent step::

    r = 300 × Δprogress − 10 × wall_hit − 15 × offroad − 1 − 2 × backwards

``Δprogress`` in checkpoints over the step; ``wall_hit`` 1 when the step ends on a wall
(surface 128) and the previous one did not (a hit, not a stay); ``offroad`` 1 when the
surface is in ``offroad_surfaces`` (default [84], the facts' off-road); ``backwards`` 1
while the flag is set. A step whose Δprogress is below ``-max_drop`` checkpoints (the game
reset its counters, e.g. between races) pays 0 for progress, as the community's Lua
"sanity check" does. Terminated when ``laps`` laps are done (default 5) or at an early
stop: no checkpoint gained over ``stuck_seconds`` of race time (default 10 s; 0: never),
or the game mode left racing (``end_when_not_racing``).

**CommunityRace** (esteveste/gym-SuperMarioKart-Snes's Lua), per agent step::

    r = 10 × Δprogress − 1 × (wall or fall)

``wall or fall``: the step ends with the surface in ``penalty_surfaces`` (128, 32, 34, 40).
Terminated when the game mode is not racing, when ``laps`` (5) laps are done, or when
``wall_hits`` (5) steps ending on a wall (surface 128) fall within the last ``window`` (500)
agent steps.

Each step's info gains ``progress``, ``delta_progress``, ``laps_done``, ``place``
(rank / 2 + 1), ``race_time`` (seconds), ``offroad``, ``wall_hit``, ``backwards``,
``finished`` and ``end`` (``"finished"``, ``"stuck"``, ``"not_racing"``, ``"walls"`` or ``""``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from typing import Any, Mapping

from emurl.errors import IntegrationError
from emurl.games.scenario import option_values

RACING = 0x1C
"""``game_mode`` (0x00B5) while a race runs (docs/facts/super-mario-kart.md)."""
LAP_BASE = 128
"""The lap byte (0x10C1) reads 128 + laps completed."""
WALL = 128
"""``surface`` (0x10AE) on a wall hit."""
FALLS = (32, 34, 40)
"""``surface`` values of a fall or deep water."""
BACKWARDS_BIT = 0x10
"""Bit of 0x010B set while driving backwards."""

NEEDED = ("checkpoint", "lap", "checkpoints_per_lap", "surface", "backwards", "game_mode", "rank",
          "timer_minutes", "timer_seconds", "timer_hundredths")
"""The variables both scenarios read (all in ``data.json``'s ``"info"``)."""


def progress(v: Mapping[str, Any]) -> int:
    """Race progress in checkpoints: ``checkpoint + (lap − 128) × checkpoints_per_lap``.

    >>> progress(dict(checkpoint=3, lap=129, checkpoints_per_lap=30))
    33
    """
    return int(v["checkpoint"]) + (int(v["lap"]) - LAP_BASE) * int(v["checkpoints_per_lap"])


def race_time(v: Mapping[str, Any]) -> float:
    """The race timer in seconds (its BCD minutes, seconds and hundredths, already decoded)."""
    return 60.0 * int(v["timer_minutes"]) + int(v["timer_seconds"]) + int(v["timer_hundredths"]) / 100.0


def _check(cls, raw, where: str, ints: tuple[str, ...], lists: tuple[str, ...], bools: tuple[str, ...]) -> dict:
    """``raw`` checked against ``cls``'s fields: ints, lists of ints, bools, the rest numbers."""
    raw = option_values(cls, raw, where)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        w = f"{where}.{key}"
        if key in ints:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise IntegrationError(f"{w}: expected a whole number >= 0, got {value!r}")
        elif key in lists:
            if not (isinstance(value, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in value)):
                raise IntegrationError(f"{w}: expected a list of surface values (ints), got {value!r}")
            value = tuple(value)
        elif key in bools:
            if not isinstance(value, bool):
                raise IntegrationError(f"{w}: expected true or false, got {value!r}")
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise IntegrationError(f"{w}: expected a number >= 0, got {value!r}")
        out[key] = value
    return out


@dataclass(frozen=True)
class RaceOptions:
    """The founding plan's scenario file's ``"race"`` object; every key optional.

    Attributes:
        laps: laps that finish the episode (default 5, a full race).
        checkpoint_reward: reward per checkpoint of progress (300).
        wall_penalty: subtracted per wall hit (10).
        offroad_penalty: subtracted per step ending off-road (15).
        time_penalty: subtracted every step (1).
        backwards_penalty: subtracted per step ending backwards (2).
        offroad_surfaces: ``surface`` values that count as off-road.
        max_drop: a larger loss of progress in one step pays 0 (counters reset).
        stuck_seconds: early stop after this much race time without a checkpoint; 0: never.
        end_when_not_racing: early stop when ``game_mode`` is not racing (0x1C).
    """

    laps: int = 5
    checkpoint_reward: float = 300.0
    wall_penalty: float = 10.0
    offroad_penalty: float = 15.0
    time_penalty: float = 1.0
    backwards_penalty: float = 2.0
    offroad_surfaces: tuple[int, ...] = (84,)
    max_drop: int = 50
    stuck_seconds: float = 10.0
    end_when_not_racing: bool = True

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, where: str = "race") -> "RaceOptions":
        """Options from a scenario file's ``"race"`` object.

        Raises:
            IntegrationError: an unknown key or a value of the wrong kind, naming ``where`` and the key.
        """
        return cls(**_check(cls, raw, where, ("laps", "max_drop"), ("offroad_surfaces",), ("end_when_not_racing",)))


@dataclass(frozen=True)
class CommunityOptions:
    """The community scenario file's ``"race"`` object; every key optional.

    Attributes:
        laps: laps that finish the episode (5).
        checkpoint_reward: reward per checkpoint of progress (10).
        penalty: subtracted per step ending on a wall or a fall (1).
        penalty_surfaces: ``surface`` values penalised (wall 128, falls 32 / 34 / 40).
        wall_hits: this many steps ending on a wall within ``window`` steps end the episode.
        window: agent steps over which wall hits are counted.
    """

    laps: int = 5
    checkpoint_reward: float = 10.0
    penalty: float = 1.0
    penalty_surfaces: tuple[int, ...] = (WALL, *FALLS)
    wall_hits: int = 5
    window: int = 500

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, where: str = "race") -> "CommunityOptions":
        """Options from a scenario file's ``"race"`` object.

        Raises:
            IntegrationError: an unknown key or a value of the wrong kind, naming ``where`` and the key.
        """
        return cls(**_check(cls, raw, where, ("laps", "wall_hits", "window"), ("penalty_surfaces",), ()))


class _Base(ABC):
    """What both scenarios share: progress, one update per step, the info dict."""

    options: Any

    def __init__(self):
        self._values: Any = None
        self._prev = 0
        self._delta = 0
        self._reward = 0.0
        self._end = ""
        self._wall_hit = False

    @classmethod
    def from_scenario(cls, scenario):
        """Build from a loaded :class:`~emurl.games.scenario.Scenario` (its ``"race"`` object)."""
        raw = getattr(scenario, "raw", {}) or {}
        return cls(cls.OPTIONS.from_dict(raw.get("race"), f"{getattr(scenario, 'path', 'scenario')}: race"))

    def reset(self, variables: Mapping[str, Any]) -> None:
        """Start an episode from the variables read right after the start state loads."""
        self._values, self._prev, self._delta, self._reward, self._end = None, progress(variables), 0, 0.0, ""
        self._wall_hit = False
        self._start(variables)

    def reward(self, variables: Mapping[str, Any]) -> float:
        """This step's reward; call once per step (terminated and info reuse its work)."""
        self._update(variables, force=True)
        return self._reward

    def terminated(self, variables: Mapping[str, Any]) -> bool:
        """True when the race is done or an early stop ended it (see the module docstring)."""
        self._update(variables)
        return bool(self._end)

    def info(self, variables: Mapping[str, Any]) -> dict:
        """What the step's info gains (see the module docstring)."""
        self._update(variables)
        surface = int(variables["surface"])
        return {
            "progress": self._prev,
            "delta_progress": self._delta,
            "laps_done": int(variables["lap"]) - LAP_BASE,
            "place": int(variables["rank"]) // 2 + 1,
            "race_time": race_time(variables),
            "offroad": surface in getattr(self.options, "offroad_surfaces", ()),
            "wall_hit": self._wall_hit,
            "backwards": bool(int(variables["backwards"]) & BACKWARDS_BIT),
            "finished": self._end == "finished",
            "end": self._end,
        }

    def _update(self, v: Mapping[str, Any], force: bool = False) -> None:
        if self._values is v and not force:
            return
        self._values = v
        now = progress(v)
        self._delta, self._prev = now - self._prev, now
        self._reward, self._end = self._step(v)

    def _start(self, v: Mapping[str, Any]) -> None:
        """Per-episode state of the subclass."""

    @abstractmethod
    def _step(self, v: Mapping[str, Any]) -> tuple[float, str]:
        """(reward, end) of the step whose variables are ``v``; ``self._delta`` is set (each
        scenario, :class:`Race` and :class:`CommunityRace`, says its own)."""


class Race(_Base):
    """The founding plan's scenario (see the module docstring).

    Args:
        options: :class:`RaceOptions` (default: 5 laps, 300 per checkpoint).

    >>> race = Race()
    >>> v = dict(checkpoint=0, lap=128, checkpoints_per_lap=30, surface=64, backwards=0, game_mode=0x1C,
    ...          rank=0, timer_minutes=0, timer_seconds=1, timer_hundredths=0)
    >>> race.reset(v)
    >>> race.reward(dict(v, checkpoint=1))  # one checkpoint, one step of time
    299.0
    """

    OPTIONS = RaceOptions

    def __init__(self, options: RaceOptions | None = None):
        super().__init__()
        self.options = options or RaceOptions()
        self._offroad = frozenset(self.options.offroad_surfaces)

    def _start(self, v: Mapping[str, Any]) -> None:
        self._was_wall = int(v["surface"]) == WALL
        self._anchor, self._anchor_time = self._prev, race_time(v)

    def _step(self, v: Mapping[str, Any]) -> tuple[float, str]:
        o = self.options
        surface = int(v["surface"])
        wall = surface == WALL
        self._wall_hit = wall and not self._was_wall
        self._was_wall = wall
        gained = self._delta if self._delta >= -o.max_drop else 0
        r = (o.checkpoint_reward * gained - o.wall_penalty * self._wall_hit - o.offroad_penalty * (surface in self._offroad)
             - o.time_penalty - o.backwards_penalty * bool(int(v["backwards"]) & BACKWARDS_BIT))
        now = race_time(v)
        if self._prev > self._anchor or now < self._anchor_time:  # a new checkpoint, or the timer restarted
            self._anchor, self._anchor_time = self._prev, now
        if int(v["lap"]) - LAP_BASE >= o.laps:
            end = "finished"
        elif o.end_when_not_racing and int(v["game_mode"]) != RACING:
            end = "not_racing"
        elif o.stuck_seconds and now - self._anchor_time >= o.stuck_seconds:
            end = "stuck"
        else:
            end = ""
        return float(r), end


class CommunityRace(_Base):
    """The community integration's scenario (see the module docstring).

    Args:
        options: :class:`CommunityOptions` (default: 5 laps, 10 per checkpoint, 5 walls in 500 steps).
    """

    OPTIONS = CommunityOptions

    def __init__(self, options: CommunityOptions | None = None):
        super().__init__()
        self.options = options or CommunityOptions()
        self._penalised = frozenset(self.options.penalty_surfaces)
        self._walls: deque[int] = deque()
        self._steps = 0

    def _start(self, v: Mapping[str, Any]) -> None:
        self._walls.clear()
        self._steps = 0

    def _step(self, v: Mapping[str, Any]) -> tuple[float, str]:
        o = self.options
        surface = int(v["surface"])
        self._steps += 1
        self._wall_hit = surface == WALL
        if self._wall_hit:
            self._walls.append(self._steps)
        while self._walls and self._walls[0] <= self._steps - o.window:
            self._walls.popleft()
        r = o.checkpoint_reward * self._delta - o.penalty * (surface in self._penalised)
        if int(v["game_mode"]) != RACING:
            end = "not_racing"
        elif int(v["lap"]) - LAP_BASE >= o.laps:
            end = "finished"
        elif o.wall_hits and len(self._walls) >= o.wall_hits:
            end = "walls"
        else:
            end = ""
        return float(r), end


__all__ = ["CommunityOptions", "CommunityRace", "NEEDED", "Race", "RaceOptions", "progress", "race_time"]
