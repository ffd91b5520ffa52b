"""Judging Super Mario Kart's variables sampled while driving (``emurl games check``).

:func:`diagnose` takes the variables read every few frames while B (accelerate) is held
after a Time Trial's countdown, and says which look unlike what the facts say they
should be (docs/facts/super-mario-kart.md), each with what to check. Pure: the driving is
:mod:`emurl.states.smk_check`'s.
"""

from __future__ import annotations

import math
from typing import Sequence

from emurl.games.smk.reward import BACKWARDS_BIT, LAP_BASE, RACING, progress, race_time

FRAME_RATE = 60.0988
"""NTSC SNES frames per second (the race timer's seconds are the game's)."""


def diagnose(samples: Sequence[dict], frame_rate: float = FRAME_RATE) -> list[str]:
    """Problems in samples taken while holding B after the countdown (empty: all plausible).

    Args:
        samples: dicts of the integration's variables plus ``frame`` (emulated frames since
            the first sample), in time order; a few seconds of driving.
        frame_rate: emulated frames per second, to compare the race timer with.

    Returns:
        One line per variable that looks wrong: what it did and what to check.
    """
    if not samples:
        return ["no samples: the race did not run"]
    out: list[str] = []
    first, last = samples[0], samples[-1]
    modes = sorted({int(s["game_mode"]) for s in samples})
    if modes != [RACING]:
        out.append(f"game_mode: read {modes}, expected {RACING} (0x1C) throughout a race; check 0x7E00B5")
    seconds = (last["frame"] - first["frame"]) / frame_rate
    timer = race_time(last) - race_time(first)
    if seconds > 1 and not 0.5 * seconds <= timer <= 1.5 * seconds:
        out.append(f"timer_*: the race timer moved {timer:.2f} s over {seconds:.2f} s of game; "
                   "check 0x7E0100/0x0102/0x0104 (BCD hundredths, seconds, minutes)")
    if max(int(s["speed"]) for s in samples) <= 0:
        out.append("speed: never above 0 with B held; check 0x7E10EA")
    moved = math.hypot(int(last["kart_x"]) - int(first["kart_x"]), int(last["kart_y"]) - int(first["kart_y"]))
    if moved < 8:
        out.append(f"kart_x/kart_y: moved {moved:.1f} map units while driving; check 0x7E0088/0x7E008C")
    per_lap = {int(s["checkpoints_per_lap"]) for s in samples}
    if len(per_lap) != 1 or not 1 <= min(per_lap) <= 128:
        out.append(f"checkpoints_per_lap: read {sorted(per_lap)}, expected one value from 1 to 128; check 0x7E0148")
    laps = sorted({int(s["lap"]) for s in samples})
    if not all(LAP_BASE - 1 <= lap <= LAP_BASE + 5 for lap in laps):
        out.append(f"lap: read {laps}, expected 128 + laps done (127-133); check 0x7E10C1")
    if any(int(s["checkpoint"]) >= max(per_lap) for s in samples):
        out.append("checkpoint: reached checkpoints_per_lap; check 0x7E10DC and 0x7E0148")
    if progress(last) <= progress(first):
        out.append(f"checkpoint: progress did not grow ({progress(first)} -> {progress(last)}) while driving; check 0x7E10DC")
    ranks = sorted({int(s["rank"]) for s in samples})
    if any(r % 2 or r > 14 for r in ranks):
        out.append(f"rank: read {ranks}, expected even values 0-14 (place = rank / 2 + 1); check 0x7E1040")
    if all(int(s["backwards"]) & BACKWARDS_BIT for s in samples):
        out.append("backwards: set all the time while driving forward; check bit 0x10 of 0x7E010B")
    return out


__all__ = ["FRAME_RATE", "diagnose"]
