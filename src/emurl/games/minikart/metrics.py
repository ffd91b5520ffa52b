"""MiniKart's racing metrics (:mod:`emurl.games.metrics`) and the autopilot's reference laps.

Variables (``data.json``; memory map ``MEMORY.md`` beside it, both in
``emurl/games/data/MiniKart-NintendoDs/``):

- clock: ``race_time``, race_status_t ``+0x0C``, frames from GO (0 during the countdown,
  frozen at the finish) ÷ :data:`~emurl.games.metrics.DS_FRAME_RATE`;
- laps: ``lap`` (``+0x00``, 0-based current lap = laps completed; -1 when reversing over
  the start line first), progress: ``race_progress`` (``+0x08``, laps);
- ``floor`` (driver_t ``+0x0E``): 3 off-road, 8 wall contact this frame; ``speed``
  (``+0x08``), px per frame;
- finished: the ``finished`` flag (``+0x10``) or ``race_progress`` ≥ the scenario's laps.

The reference line is ``homebrew/minikart/tools/drive.py``'s autopilot (it aims at the centre
line 28 px ahead, holds A, drifts on sharp turns), measured once per track and stored in
``metadata.json``'s ``"autopilot"`` with how it was measured; the episode's track is the
``track`` variable at reset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from emurl.errors import IntegrationError
from emurl.games.jsonfile import read_json_object
from emurl.games.metrics import DS_FRAME_RATE, RaceMetrics, RaceSample

OFFROAD = 3
"""``floor`` on the grass verge (MEMORY.md, driver_t)."""
WALL = 8
"""``floor`` in a frame whose move a wall blocked."""


def sample(v: Mapping[str, Any], laps: int = 3) -> RaceSample:
    """One step's :class:`~emurl.games.metrics.RaceSample` from MiniKart's variables.

    >>> s = sample(dict(race_time=120, lap=0, race_progress=0.25, speed=0.75, floor=3, finished=0))
    >>> round(s.clock, 4), s.laps_done, s.offroad, s.wall, s.racing, s.finished
    (2.0058, 0, True, False, True, False)
    """
    time = int(v["race_time"])
    progress = float(v["race_progress"])
    floor = int(v["floor"])
    return RaceSample(clock=time / DS_FRAME_RATE, laps_done=int(v["lap"]), progress=progress, speed=float(v["speed"]),
                      offroad=floor == OFFROAD, wall=floor == WALL, racing=time > 0,
                      finished=bool(v["finished"]) or progress >= laps)


def autopilot_reference(metadata: Mapping[str, Any], where: str) -> dict[int, tuple[float, float]]:
    """``{track: (best lap s, race time s)}`` of the autopilot, from ``metadata.json``'s
    ``"autopilot"`` (``tracks``: ``{"0": {"lap_frames": [...], "race_frames": n}}``); {} without it.

    Raises:
        IntegrationError: a malformed entry (naming ``where`` and the key).
    """
    tracks = (metadata.get("autopilot") or {}).get("tracks") or {}
    out = {}
    for key, entry in tracks.items():
        laps, race = entry.get("lap_frames"), entry.get("race_frames")
        if not (str(key).isdigit() and isinstance(laps, list) and laps and all(isinstance(n, int) and n > 0 for n in laps)
                and isinstance(race, int) and race > 0):
            raise IntegrationError(f"{where}: autopilot.tracks.{key}: expected {{\"lap_frames\": [frames, ...], "
                                   f"\"race_frames\": frames}} with positive whole numbers, got {entry!r}")
        out[int(key)] = (min(laps) / DS_FRAME_RATE, race / DS_FRAME_RATE)
    return out


class Metrics(RaceMetrics):
    """MiniKart's per-episode racing metrics, with the autopilot's best lap and race time as
    the reference (``best_lap_ratio``, ``race_time_ratio``).

    Args:
        laps: laps in the race (3; the one-lap scenario's 1).
        reference: ``{track: (best lap s, race time s)}`` (:func:`autopilot_reference`).
    """

    def __init__(self, laps: int = 3, reference: Mapping[int, tuple[float, float]] | None = None):
        refs = dict(reference or {})
        super().__init__(laps, lambda v: sample(v, laps), lambda v: refs.get(int(v["track"])))

    @classmethod
    def from_scenario(cls, scenario) -> "Metrics":
        """For a loaded scenario: the laps of its ``"python"`` race class (``minikart.py``'s
        ``Race.laps`` 3, ``OneLap.laps`` 1; 3 without one) and the autopilot in
        ``metadata.json`` beside it."""
        race = scenario.load_python()
        laps = getattr(race, "laps", 3)
        if isinstance(laps, bool) or not isinstance(laps, int) or laps < 1:
            raise IntegrationError(f"{scenario.path}: python: {type(race).__name__}.laps: expected a whole number >= 1, "
                                   f"got {laps!r}")
        meta = Path(scenario.path).parent / "metadata.json"
        ref = autopilot_reference(read_json_object(meta), str(meta)) if meta.is_file() else {}
        return cls(laps, ref)


__all__ = ["Metrics", "OFFROAD", "WALL", "autopilot_reference", "sample"]
