"""MiniKart's race scenario: reward for progress along the track, episode end at the finish.

The variables come from ``data.json`` (memory map: ``MEMORY.md`` beside this file).
Called once per agent step with the variables at the end of the step.

Reward per agent step, clipped to [-1, 1]::

    k * Δrace_progress + speed_coef * speed - offroad_penalty * [floor is off-road or wall]

- ``race_progress`` is in laps (fx32 in RAM, 1.0 per lap; it falls when driving
  backwards), so ``k`` = 50 makes a whole lap worth 50. A lap of track 0 is ~470 px
  (the autopilot in ``homebrew/minikart/tools/drive.py`` laps in ~640 frames at the top
  speed of 0.75 px/frame), so one agent step (4 frames, 3 px) at top speed is ~0.006 lap,
  a reward of ~0.3, under the clip.
- ``speed`` is in pixels per frame (fx32 in RAM); at top speed (0.75) the term is 0.0075.
- off-road is floor type 3, wall contact floor type 8 (MiniKart uses Mario Kart DS's KCL
  numbers: 0 road, 3 off-road, 8 wall). Both are penalised alike: with only the grass
  penalised, PPO learned to scrape along the outer wall, where the kart crawls forward
  at almost no speed without a penalty.

Terminated: the race is finished (``laps`` laps done: ``finished`` flag or
``race_progress >= laps``), or, optionally, the kart is stuck: its best race progress has
not grown by ``stuck_progress`` laps (0.05: ~24 px, half a second at top speed) for
``stuck_seconds`` of race time (race time counts from GO, so the countdown is not
"stuck"); crawling along a wall does not count as progress. Truncation is the env's
``max_episode_steps``.

Metrics (``"metrics": "minikart.py:Metrics"`` in the scenario files): lap and race times,
finish, speed, off-road, wall hits and the ratio to the autopilot's lap, see
:mod:`emurl.games.minikart.metrics`.
"""

from __future__ import annotations

from emurl.games.minikart.metrics import Metrics  # noqa: F401  the scenario files' "metrics"


class Race:
    """Three laps, stuck after 5 s without progress."""

    laps = 3
    k = 50.0
    speed_coef = 0.01
    offroad_penalty = 0.1
    stuck_seconds = 5.0
    stuck_progress = 0.05
    frame_rate = 59.8261

    def reset(self, v: dict) -> None:
        self.prev = float(v["race_progress"])
        self.best = self.prev
        self.best_time = int(v["race_time"])
        self.delta = 0.0
        self.stuck = False

    def reward(self, v: dict) -> float:
        progress = float(v["race_progress"])
        self.delta = progress - self.prev
        self.prev = progress
        t = int(v["race_time"])
        if progress >= self.best + self.stuck_progress:
            self.best, self.best_time = progress, t
        self.stuck = self.stuck_seconds is not None and t - self.best_time > self.stuck_seconds * self.frame_rate
        r = self.k * self.delta + self.speed_coef * float(v["speed"]) - self.offroad_penalty * (int(v["floor"]) in (3, 8))
        return max(-1.0, min(1.0, r))

    def finished(self, v: dict) -> bool:
        return bool(v["finished"]) or float(v["race_progress"]) >= self.laps

    def terminated(self, v: dict) -> bool:
        return self.finished(v) or self.stuck

    def info(self, v: dict) -> dict:
        return {
            "delta_progress": self.delta,
            "offroad": int(v["floor"]) == 3,
            "stuck": self.stuck,
            "race_finished": self.finished(v),
            "success": self.finished(v),  # emurl eval reports the success rate
        }


class OneLap(Race):
    """One lap: shorter episodes for quick experiments."""

    laps = 1
