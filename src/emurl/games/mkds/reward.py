"""The race scenario: reward for progress and speed, episodes that end with the race.

The integration's scenario files (``scenario.json``, ``scenario_1lap.json``, ...) name
``"python": "mkds.py:Race"``; ``mkds.py`` beside them only re-exports :class:`Race`.
The env calls it once per agent step with the variables at the end of the step (see
:mod:`emurl.games.scenario`); options come from the scenario file's ``"race"`` object.

Reward per agent step::

    r = clip(progress_reward * Δrace_progress + speed_reward * speed
             - offroad_penalty * offroad, -clip, clip)

- ``race_progress`` is the game's own measure (docs/facts/mario-kart-ds.md, race_status_t
  ``+0x58``), in laps: about 1.0 per lap and cumulative over the race. Δ is taken over one
  agent step. With ``progress_reward`` = 100 a lap is worth 100 before clipping. Magnitude:
  a lap takes some 30-45 s (1800-2700 frames), so one step of ``frame_skip`` = 4 frames
  at racing speed moves 0.0015-0.0022 lap: a progress term of 0.15-0.22, well inside the
  clip. What reaches the clip: a respawn (progress jumps back, up to -1) and a finish
  line crossing only if the game resets progress there (it should not: cumulative).
- ``speed`` is driver_t ``+0x2A8`` as the game stores it, fx32 ÷ 4096 = world units per
  frame (negative when reversing), read at the end of the step; it does not scale with
  ``frame_skip``. ``speed_reward`` = 0.01 gives 0.01 per unit per frame. Check your
  karts' top speed with ``emurl games check`` and lower ``speed_reward`` if
  ``0.01 * top speed`` comes near the progress term, or the clip.
- ``offroad`` is 1 when ``floor_type`` (driver_t ``+0x3E0``, a KCL collision type) is in
  ``offroad_types`` (default ``[3]``, the off-road type both sources confirm; the
  decompilation also names 2 weak off-road and 5 heavy off-road: add them once checked).

Terminated when:

- the race is done: with ``finish = "lap"`` (default) when ``lap >= first_lap + laps``
  (``first_lap`` is the value of the lap counter during the first lap, default 1: a
  3-lap race is done when the counter reaches 4); with ``finish = "progress"`` when
  ``race_progress >= laps``;
- optionally (``stuck_seconds`` > 0) the kart is stuck: its race progress has not gained
  ``stuck_min_progress`` laps over ``stuck_seconds`` of game time, measured by the race
  frame counter (race_state_t ``+0x4``) at 59.8261 frames/s. The countdown counts too: keep
  ``stuck_seconds`` above its ~4 s;
- optionally (``end_on_respawn``) the respawn counter (driver_t ``+0x3AC``) changes to a
  non-zero value: the kart fell off or was put back on the course.

Truncation (a step cap) is the env's ``max_episode_steps``, not the scenario's.

Each step's info gains: ``speed``, ``delta_progress``, ``lap``, ``laps_done``,
``offroad`` (bool), ``checkpoint``, ``place``, ``race_frame``, ``stuck``, ``respawned``,
``finished`` and ``end`` (``"finished"``, ``"stuck"``, ``"respawn"`` or ``""``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from emurl.errors import IntegrationError
from emurl.games.scenario import option_values
from emurl.games.mkds.game import FRAME_RATE

NEEDED = ("race_progress", "speed", "floor_type", "lap", "race_frame", "respawn_counter", "checkpoint", "place")
"""The variables :class:`Race` reads (all in ``data.json``'s ``"info"``)."""


@dataclass(frozen=True)
class RaceOptions:
    """The scenario file's ``"race"`` object; every key optional.

    Attributes:
        laps: laps in the episode's race (default 3).
        finish: ``"lap"`` (lap counter) or ``"progress"`` (race progress) decides when
            ``laps`` are done.
        first_lap: the lap counter's value during the first lap (``finish = "lap"``).
        progress_reward: reward per lap of race progress (k).
        speed_reward: reward per unit of speed (world units per frame) per agent step.
        offroad_penalty: subtracted per agent step that ends off-road.
        offroad_types: KCL floor types that count as off-road.
        clip: the reward is clipped to ``[-clip, clip]``; 0 or None: no clip.
        stuck_seconds: end the episode after this much game time without progress;
            0 or None: never.
        stuck_min_progress: laps of progress that count as not stuck.
        end_on_respawn: end the episode when the respawn counter changes to non-zero.
        frame_rate: race frames per second (the DS's).
    """

    laps: int = 3
    finish: str = "lap"
    first_lap: int = 1
    progress_reward: float = 100.0
    speed_reward: float = 0.01
    offroad_penalty: float = 0.1
    offroad_types: tuple[int, ...] = (3,)
    clip: float | None = 1.0
    stuck_seconds: float | None = 10.0
    stuck_min_progress: float = 0.002
    end_on_respawn: bool = False
    frame_rate: float = FRAME_RATE

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, where: str = "race") -> "RaceOptions":
        """Options from a scenario file's ``"race"`` object.

        Raises:
            IntegrationError: an unknown key or a value of the wrong kind; the message
                names ``where``, the key and what was expected.
        """
        raw = option_values(cls, raw, where)
        out: dict[str, Any] = {}
        for key, value in raw.items():
            w = f"{where}.{key}"
            if key in ("laps", "first_lap"):
                if not isinstance(value, int) or isinstance(value, bool) or (key == "laps" and value < 1):
                    raise IntegrationError(f"{w}: expected an integer{' >= 1' if key == 'laps' else ''}, got {value!r}")
            elif key == "finish":
                if value not in ("lap", "progress"):
                    raise IntegrationError(f"{w}: expected \"lap\" or \"progress\", got {value!r}")
            elif key == "offroad_types":
                if not (isinstance(value, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in value)):
                    raise IntegrationError(f"{w}: expected a list of KCL collision types (ints), got {value!r}")
                value = tuple(value)
            elif key == "end_on_respawn":
                if not isinstance(value, bool):
                    raise IntegrationError(f"{w}: expected true or false, got {value!r}")
            elif key in ("clip", "stuck_seconds"):
                if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
                    raise IntegrationError(f"{w}: expected a number >= 0 or null, got {value!r}")
            elif not isinstance(value, (int, float)) or isinstance(value, bool):
                raise IntegrationError(f"{w}: expected a number, got {value!r}")
            out[key] = value
        return cls(**out)


@dataclass
class _Episode:
    prev_progress: float = 0.0
    anchor_progress: float = 0.0
    anchor_frame: int = 0
    prev_respawn: int = 0
    delta: float = 0.0
    reward: float = 0.0
    offroad: bool = False
    stuck: bool = False
    respawned: bool = False
    finished: bool = False
    values: Any = field(default=None, repr=False)


class Race:
    """The race scenario (see the module docstring for reward and end of episode).

    Args:
        options: :class:`RaceOptions` (default: 3 laps, k = 100, stuck after 10 s).

    Each method takes the step's variables, a dict name → value holding at least
    :data:`NEEDED`. :meth:`reward` advances the episode by one step (the env calls
    reward, terminated, info in that order); the other two reuse its work for the same dict.

    >>> race = Race(RaceOptions(laps=1))
    >>> v = dict(race_progress=0.0, speed=0.0, floor_type=0, lap=1, race_frame=1,
    ...          respawn_counter=0, checkpoint=0, place=1)
    >>> race.reset(v)
    >>> round(race.reward(dict(v, race_progress=0.002, speed=10.0, race_frame=5)), 6)
    0.3
    """

    def __init__(self, options: RaceOptions | None = None):
        self.options = options or RaceOptions()
        self._offroad = frozenset(self.options.offroad_types)
        self._ep = _Episode()

    @classmethod
    def from_scenario(cls, scenario) -> "Race":
        """Build from a loaded :class:`~emurl.games.scenario.Scenario` (its ``"race"`` object)."""
        raw = getattr(scenario, "raw", {}) or {}
        return cls(RaceOptions.from_dict(raw.get("race"), f"{getattr(scenario, 'path', 'scenario')}: race"))

    # -- the scenario protocol ------------------------------------------------------------
    def reset(self, variables: Mapping[str, Any]) -> None:
        """Start an episode from the variables read right after the start state loads."""
        progress = float(variables["race_progress"])
        self._ep = _Episode(
            prev_progress=progress,
            anchor_progress=progress,
            anchor_frame=int(variables["race_frame"]),
            prev_respawn=int(variables["respawn_counter"]),
        )

    def reward(self, variables: Mapping[str, Any]) -> float:
        """This step's reward (float in ``[-clip, clip]``); call once per step."""
        self._update(variables, force=True)
        return self._ep.reward

    def terminated(self, variables: Mapping[str, Any]) -> bool:
        """True when the race is done, or the kart is stuck / respawned where those end episodes."""
        self._update(variables)
        ep = self._ep
        return ep.finished or ep.stuck or (ep.respawned and self.options.end_on_respawn)

    def info(self, variables: Mapping[str, Any]) -> dict:
        """What the step's info gains (see the module docstring)."""
        self._update(variables)
        ep, o = self._ep, self.options
        end = ""
        if ep.finished:
            end = "finished"
        elif ep.stuck:
            end = "stuck"
        elif ep.respawned and o.end_on_respawn:
            end = "respawn"
        lap = int(variables["lap"])
        return {
            "speed": float(variables["speed"]),
            "delta_progress": ep.delta,
            "lap": lap,
            "laps_done": max(0, lap - o.first_lap) if o.finish == "lap" else max(0, int(float(variables["race_progress"]))),
            "offroad": ep.offroad,
            "checkpoint": int(variables["checkpoint"]),
            "place": int(variables["place"]),
            "race_frame": int(variables["race_frame"]),
            "stuck": ep.stuck,
            "respawned": ep.respawned,
            "finished": ep.finished,
            "end": end,
        }

    # -- one step ---------------------------------------------------------------------------
    def _update(self, v: Mapping[str, Any], force: bool = False) -> None:
        ep, o = self._ep, self.options
        if ep.values is v and not force:
            return
        ep.values = v
        progress = float(v["race_progress"])
        frame = int(v["race_frame"])
        ep.delta = progress - ep.prev_progress
        ep.prev_progress = progress
        ep.offroad = int(v["floor_type"]) in self._offroad
        r = o.progress_reward * ep.delta + o.speed_reward * float(v["speed"]) - o.offroad_penalty * ep.offroad
        if o.clip:
            r = max(-o.clip, min(o.clip, r))
        ep.reward = float(r)

        # stuck: no gain of stuck_min_progress laps over stuck_seconds of race frames
        if progress >= ep.anchor_progress + o.stuck_min_progress or frame < ep.anchor_frame:
            ep.anchor_progress, ep.anchor_frame = progress, frame
        ep.stuck = bool(o.stuck_seconds) and frame - ep.anchor_frame >= o.stuck_seconds * o.frame_rate

        respawn = int(v["respawn_counter"])
        ep.respawned = respawn != ep.prev_respawn and respawn != 0
        ep.prev_respawn = respawn

        if o.finish == "lap":
            ep.finished = int(v["lap"]) >= o.first_lap + o.laps
        else:
            ep.finished = progress >= o.laps


__all__ = ["NEEDED", "Race", "RaceOptions"]
