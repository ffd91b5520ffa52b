"""Racing metrics of one episode, as pure functions of its per-step samples.

A racing scenario declares its metrics in its ``scenario.json`` (``"metrics":
"file.py:ClassName"``, see :mod:`emurl.games.scenario`): a class that turns one step's
variables into a :class:`RaceSample` (the game's own clock, lap counter, progress, speed,
floor). :class:`RaceMetrics` collects the samples of an episode and :func:`race_metrics`
turns them into a dict of floats at the episode's end:

==================  =======================================================================
key                 meaning
==================  =======================================================================
lap_completion      race progress at the end ÷ the race's laps, clipped to [0, 1]
finished            1.0 when the race was finished within the episode, else 0.0 (its mean
                    over episodes is the finish rate)
laps_completed      whole laps completed within the episode
lap<k>_time_s       lap k's time, seconds of game time: only for a lap that began and ended
                    within the episode
lap_time_s          the mean of those laps; ``best_lap_time_s`` the fastest
race_time_s         the race's time, seconds of game time: only when the episode ran the
                    whole race (it started at the race's start and finished it)
average_speed       mean speed over the racing steps, the game's units per frame
offroad_fraction    share of the racing steps that ended off-road
wall_hits           racing steps that ended touching a wall after one that did not
==================  =======================================================================

With a reference lap (MiniKart's autopilot), also ``best_lap_ratio`` (best lap ÷ the
reference's best lap) and ``race_time_ratio`` (race time ÷ the reference's race time).

"Racing steps" are the agent steps from the race's start (the clock running) up to and
including the step that finished it. A key whose quantity is undefined for the episode
(no lap completed, no racing step) is left out, never NaN.

Sampling: an env reads the variables once per agent step, at its end (``frame_skip``
frames). Speed, off-road and walls are sampled there (a wall touched and left within one
step is not seen); a lap's end is the step in which the lap counter grew, so lap times
are exact with ``frame_skip`` = 1 and late by at most ``frame_skip`` − 1 frames otherwise,
unless the game's clock stops at the finish (MiniKart's does: its race time is exact).

Game time: frames ÷ the system's frame rate, :data:`DS_FRAME_RATE` (59.8261 Hz) and
:data:`SNES_FRAME_RATE` (60.0988 Hz) where a game counts frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

DS_FRAME_RATE = 59.8261
"""Nintendo DS frames per second: 33.513982 MHz ÷ 560,190 cycles a frame (355 dots × 263
lines × 6 cycles), GBATEK "DS Video" (https://problemkaputt.de/gbatek.htm#dsvideo)."""
SNES_FRAME_RATE = 60.0988
"""SNES NTSC frames per second: 21.477273 MHz ÷ 357,366 master cycles a frame on average
(262 lines of 1,364 cycles; every other frame one line is 4 cycles short), fullsnes
"SNES Timings" (https://problemkaputt.de/fullsnes.htm#snestimings)."""


@dataclass(frozen=True)
class RaceSample:
    """One agent step of a race, in the game's terms.

    Attributes:
        clock: the game's race clock, seconds of game time.
        laps_done: whole laps the game counts as completed (may dip below a previous value
            when a kart reverses over the line; a lap counts once, at its first completion).
        progress: race progress in laps (fractional; 1.0 a lap).
        speed: the kart's speed, the game's units per frame (negative when reversing).
        offroad: the step ended off-road.
        wall: the step ended touching a wall.
        racing: the race's clock runs (after the start; countdown excluded where the game's
            clock excludes it).
        finished: the race is finished.
    """

    clock: float
    laps_done: int
    progress: float
    speed: float
    offroad: bool
    wall: bool
    racing: bool
    finished: bool


def lap_boundaries(samples: Sequence[RaceSample]) -> dict[int, float]:
    """Clock (s) at which the race reached each lap count: ``{k: clock}`` for every ``k``
    first reached within the episode; also ``{n: start clock}`` for the lap count ``n`` at the
    episode's start when the episode starts at that lap's beginning (progress ≤ ``n``).

    >>> s = [RaceSample(0.0, 0, 0.0, 0, False, False, False, False),
    ...      RaceSample(10.0, 1, 1.01, 0, False, False, True, False)]
    >>> lap_boundaries(s)
    {0: 0.0, 1: 10.0}
    """
    if not samples:
        return {}
    first = samples[0]
    out: dict[int, float] = {}
    if first.progress <= first.laps_done + 1e-9:
        out[first.laps_done] = first.clock
    best = first.laps_done
    for s in samples[1:]:
        for k in range(best + 1, s.laps_done + 1):
            out[k] = s.clock
        best = max(best, s.laps_done)
    return out


def race_metrics(samples: Sequence[RaceSample], laps: int, reference_lap_s: float | None = None,
                 reference_race_s: float | None = None) -> dict[str, float]:
    """The episode's metrics (the module docstring lists the keys) from its samples: the one
    after reset first, then one per agent step.

    Args:
        samples: the episode's samples; an empty sequence gives ``{}``.
        laps: laps in the race (≥ 1).
        reference_lap_s, reference_race_s: a reference's best lap and race time, seconds;
            None: no ratio.
    """
    if not samples:
        return {}
    first, last = samples[0], samples[-1]
    out: dict[str, float] = {
        "lap_completion": min(1.0, max(0.0, float(last.progress) / laps)),
        "finished": float(any(s.finished for s in samples)),
    }
    bounds = lap_boundaries(samples)
    out["laps_completed"] = float(max(0, max(s.laps_done for s in samples) - first.laps_done))
    times = {k: bounds[k] - bounds[k - 1] for k in sorted(bounds) if k - 1 in bounds and 1 <= k <= laps}
    for k, t in times.items():
        out[f"lap{k}_time_s"] = t
    if times:
        out["lap_time_s"] = sum(times.values()) / len(times)
        out["best_lap_time_s"] = min(times.values())
        if reference_lap_s:
            out["best_lap_ratio"] = out["best_lap_time_s"] / reference_lap_s
    if out["finished"] and 0 in bounds and laps in bounds:
        out["race_time_s"] = bounds[laps] - bounds[0]
        if reference_race_s:
            out["race_time_ratio"] = out["race_time_s"] / reference_race_s

    racing, walls, was_wall, done = [], 0, first.wall, first.finished
    for s in samples[1:]:
        if s.racing and not done:
            racing.append(s)
            walls += s.wall and not was_wall
        was_wall, done = s.wall, done or s.finished
    if racing:
        out["average_speed"] = sum(s.speed for s in racing) / len(racing)
        out["offroad_fraction"] = sum(s.offroad for s in racing) / len(racing)
        out["wall_hits"] = float(walls)
    return out


class RaceMetrics:
    """One episode's racing metrics: :meth:`reset` with the variables after reset,
    :meth:`update` once per agent step, :meth:`result` at the end.

    Args:
        laps: laps in the race.
        sample: the game's ``variables -> RaceSample``.
        reference: ``variables at reset -> (best lap s, race time s)`` of a reference
            driver on this episode's track, or None.
    """

    def __init__(self, laps: int, sample: Callable[[Mapping[str, Any]], RaceSample],
                 reference: Callable[[Mapping[str, Any]], tuple[float, float] | None] | None = None):
        self.laps = int(laps)
        self.sample = sample
        self.reference_of = reference
        self.samples: list[RaceSample] = []
        self.reference: tuple[float, float] | None = None

    def reset(self, variables: Mapping[str, Any]) -> None:
        """Start an episode."""
        self.samples = [self.sample(variables)]
        self.reference = self.reference_of(variables) if self.reference_of else None

    def update(self, variables: Mapping[str, Any]) -> None:
        """Add one agent step's variables."""
        self.samples.append(self.sample(variables))

    def result(self) -> dict[str, float]:
        """The episode's metrics so far (:func:`race_metrics`)."""
        ref = self.reference or (None, None)
        return race_metrics(self.samples, self.laps, *ref)


__all__ = ["DS_FRAME_RATE", "RaceMetrics", "RaceSample", "SNES_FRAME_RATE", "lap_boundaries", "race_metrics"]
