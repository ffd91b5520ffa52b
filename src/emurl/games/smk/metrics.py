"""Super Mario Kart's racing metrics (:mod:`emurl.games.metrics`), from the scenarios' variables.

Facts: docs/facts/super-mario-kart.md (not checked on a running game: no ROM here).

- clock: the game's race timer (0x0100-0x0104, BCD minutes, seconds, hundredths), the
  time the game shows and the one published Super Mario Kart results quote (e.g. Mario
  Circuit 1 in 1:08.03), in seconds (:func:`emurl.games.smk.reward.race_time`). No frame
  counter is among the variables; where SNES frames are counted, seconds are frames ÷
  :data:`~emurl.games.metrics.SNES_FRAME_RATE`.
- laps: ``lap`` − 128 (the lap byte reads 128 + laps completed); progress in laps:
  ``(checkpoint + laps done × checkpoints_per_lap) ÷ checkpoints_per_lap``.
- ``surface`` (0x10AE): off-road when in the scenario's ``offroad_surfaces`` (84), a wall hit
  at 128; ``speed`` (0x10EA), the game's units.
- racing: ``game_mode`` is 0x1C and the timer runs; finished: the scenario's ``laps`` done.
"""

from __future__ import annotations

from typing import Any, Mapping

from emurl.games.metrics import RaceMetrics, RaceSample
from emurl.games.smk.reward import LAP_BASE, RACING, WALL, progress, race_time

OFFROAD = (84,)
"""``surface`` values off the road (docs/facts/super-mario-kart.md), when the scenario names none."""


def sample(v: Mapping[str, Any], laps: int = 5, offroad: tuple[int, ...] = OFFROAD) -> RaceSample:
    """One step's :class:`~emurl.games.metrics.RaceSample` from Super Mario Kart's variables.

    >>> s = sample(dict(timer_minutes=1, timer_seconds=2, timer_hundredths=50, lap=129, checkpoint=15,
    ...                 checkpoints_per_lap=30, surface=84, speed=600, game_mode=0x1C))
    >>> s.clock, s.laps_done, s.progress, s.offroad, s.racing
    (62.5, 1, 1.5, True, True)
    """
    clock = race_time(v)
    done = int(v["lap"]) - LAP_BASE
    per_lap = int(v["checkpoints_per_lap"])
    surface = int(v["surface"])
    return RaceSample(clock=clock, laps_done=done, progress=progress(v) / per_lap if per_lap > 0 else float(done),
                      speed=float(v["speed"]), offroad=surface in offroad, wall=surface == WALL,
                      racing=int(v["game_mode"]) == RACING and clock > 0, finished=done >= laps)


class Metrics(RaceMetrics):
    """Super Mario Kart's per-episode racing metrics (no reference line).

    Args:
        laps: laps in the race (5).
        offroad: ``surface`` values that count as off-road.
    """

    def __init__(self, laps: int = 5, offroad: tuple[int, ...] = OFFROAD):
        self.offroad = frozenset(offroad)
        super().__init__(laps, lambda v: sample(v, laps, self.offroad))

    @classmethod
    def from_scenario(cls, scenario) -> "Metrics":
        """For a loaded scenario: the laps and off-road surfaces of its race class's options
        (the ``"race"`` object; the community scenario has no off-road: :data:`OFFROAD`)."""
        options = scenario.load_python().options
        return cls(options.laps, tuple(getattr(options, "offroad_surfaces", OFFROAD)))


__all__ = ["Metrics", "OFFROAD", "sample"]
