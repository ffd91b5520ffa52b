"""Mario Kart DS's racing metrics (:mod:`emurl.games.metrics`), from the race scenario's variables.

Facts: docs/facts/mario-kart-ds.md (none checked on a running game: no ROM here).

- clock: seconds since GO: ``race_frame`` (race_state_t ``+0x4``, 1 on the race's first
  frame) less :data:`COUNTDOWN_FRAMES` the countdown takes, ÷
  :data:`~emurl.games.metrics.DS_FRAME_RATE`; 0 and not racing during the countdown, so
  the race time and the first lap's time start at GO, as the game's own timer does. A
  first lap the game counts from the start line (the lap counter still below
  ``first_lap`` at GO) starts when the counter reaches ``first_lap``.
- laps: ``lap`` − the scenario's ``first_lap`` (the counter's value on the first lap);
  progress: ``race_progress`` (race_status_t ``+0x58``, about 1.0 a lap).
- ``floor_type`` (driver_t ``+0x3E0``, a KCL type): off-road when in the scenario's
  ``offroad_types`` (default 3); a wall hit when 8 (KCL's wall type; that the floor type
  shows it on wall contact is unverified); ``speed`` (``+0x2A8``), world units per frame.
- finished: as the scenario decides (``finish = "lap"``: the counter reached
  ``first_lap + laps``; ``"progress"``: ``race_progress`` ≥ ``laps``).
"""

from __future__ import annotations

from typing import Any, Mapping

from emurl.games.metrics import DS_FRAME_RATE, RaceMetrics, RaceSample
from emurl.games.mkds.reward import RaceOptions

WALL = 8
"""KCL collision type of a wall (docs/facts/mario-kart-ds.md, "KCL floor types")."""
COUNTDOWN_FRAMES = 121
"""``race_frame`` at GO: a race starts at race frame 1 and "the countdown follows; ghost
inputs begin 120 frames later" (docs/facts/mario-kart-ds.md, the Time Trial menu sequence),
so the karts move from race frame 121. Unverified on a running game (no ROM here): with a
ROM, compare an episode's ``race_time_s`` with the time the game shows at the finish."""


def sample(v: Mapping[str, Any], options: RaceOptions | None = None) -> RaceSample:
    """One step's :class:`~emurl.games.metrics.RaceSample` from Mario Kart DS's variables.

    >>> s = sample(dict(race_frame=600, lap=2, race_progress=1.5, speed=20.0, floor_type=3))
    >>> round(s.clock, 3), s.laps_done, s.offroad, s.wall, s.finished  # (600 - 121) / 59.8261
    (8.007, 1, True, False, False)
    >>> sample(dict(race_frame=60, lap=1, race_progress=0.0, speed=0.0, floor_type=0)).racing  # the countdown
    False
    """
    o = options or RaceOptions()
    frame = int(v["race_frame"])
    progress = float(v["race_progress"])
    lap = int(v["lap"])
    floor = int(v["floor_type"])
    finished = lap >= o.first_lap + o.laps if o.finish == "lap" else progress >= o.laps
    since_go = frame - COUNTDOWN_FRAMES
    return RaceSample(clock=max(since_go, 0) / DS_FRAME_RATE, laps_done=lap - o.first_lap, progress=progress,
                      speed=float(v["speed"]), offroad=floor in o.offroad_types, wall=floor == WALL,
                      racing=since_go > 0, finished=finished)


class Metrics(RaceMetrics):
    """Mario Kart DS's per-episode racing metrics (no reference line).

    Args:
        options: the race scenario's :class:`~emurl.games.mkds.reward.RaceOptions` (laps,
            ``first_lap``, ``finish``, ``offroad_types``).
    """

    def __init__(self, options: RaceOptions | None = None):
        self.options = options or RaceOptions()
        super().__init__(self.options.laps, lambda v: sample(v, self.options))

    @classmethod
    def from_scenario(cls, scenario) -> "Metrics":
        """For a loaded scenario: its ``"race"`` object (:class:`RaceOptions`)."""
        raw = getattr(scenario, "raw", {}) or {}
        return cls(RaceOptions.from_dict(raw.get("race"), f"{getattr(scenario, 'path', 'scenario')}: race"))


__all__ = ["COUNTDOWN_FRAMES", "Metrics", "WALL", "sample"]
