"""The greedy placement opponent against a random player on MiniDoc-Nes, and placement
decisions per second.

- **Win rate**: ``--games`` two-player games (default 200), levels 0-5 in turn (game ``i``
  at level ``i % 6``, low speed, layout seed ``i``). Seat 0 is the random player: a
  uniformly random frame-level action (of the 12) every frame; seat 1 is
  ``opponent="greedy"`` (:class:`emurl.wrappers.placement.GreedyOpponent`). A game the
  greedy player wins: seat 0's ``info["end"]`` is ``loss`` (the greedy side cleared its
  viruses) or ``top-out``; a draw or a game cut at ``--max-frames`` is not a win. Prints
  the rate with its Wilson 95% interval, per level too.
- **Decisions/s**: ``emurl.make("MiniDoc-Nes", action_set="placement", opponent="random")``,
  a uniformly random placement among those the mask allows per step, for ``--seconds``;
  emulator frames included (each step runs the capsule's frames until the next one).

The start states for levels 1-4 are made from power-on by the menu script (as
``start_states.json``'s) into a temporary folder.

Usage::

    .venv/bin/python benchmarks/drmario_greedy.py --games 200 --seconds 20
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import defaultdict

import numpy as np

import emurl
from emurl.games import load_integration
from emurl.states.scripts import make_start_state

GAME = "MiniDoc-Nes"
LEVELS = range(6)


def menu_script(level: int) -> list:
    """2 players, virus level ``level``, speed low, from power-on to set-up (mode 2)."""
    steps = [{"wait": 20}, {"press": "START"}, {"wait": 5}, {"press": "RIGHT", "gap": 2}, {"press": "DOWN", "gap": 2}]
    if level:
        steps.append({"press": "RIGHT", "gap": 2, "repeat": level})
    return steps + [{"press": "START"}, {"until": {"mode": 2}, "timeout": 10, "hint": "the menu did not start the game"}]


def wilson(wins: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a rate ``wins / n``."""
    if n == 0:
        return 0.0, 1.0
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def play(state: str, seed: int, max_frames: int) -> tuple[str, int]:
    env = emurl.make(GAME, state=state, action_set="frame", frame_skip=1, opponent="greedy", obs_type="ram",
                     render_mode=None)
    try:
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        actions = rng.integers(0, env.action_space.n, max_frames)
        for frame in range(max_frames):
            _, _, terminated, truncated, info = env.step(int(actions[frame]))
            if terminated or truncated:
                return info.get("end", "?"), frame + 1
        return "cut", max_frames
    finally:
        env.close()


def decisions_per_second(seconds: float) -> tuple[float, float]:
    env = emurl.make(GAME, action_set="placement", opponent="random", obs_type="features", render_mode=None)
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    steps = frames = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        action = rng.choice(np.flatnonzero(env.action_masks()))
        _, _, terminated, truncated, info = env.step(action)
        steps += 1
        frames += info["frames"]
        if terminated or truncated:
            env.reset(seed=steps)
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed, frames / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--max-frames", type=int, default=40_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="for decisions/s (0: skip)")
    args = parser.parse_args()

    integ = load_integration(GAME)
    with tempfile.TemporaryDirectory() as tmp:
        states = {level: str(make_start_state(integ, f"2P_L{level}_Low", menu_script(level), "retro", out_dir=tmp,
                                              screenshot_on_failure=False).path) for level in LEVELS}
        per_level: dict[int, list[bool]] = defaultdict(list)
        ends: dict[str, int] = defaultdict(int)
        start = time.perf_counter()
        for game in range(args.games):
            level = LEVELS[game % len(LEVELS)]
            end, frames = play(states[level], game, args.max_frames)
            ends[end] += 1
            per_level[level].append(end in ("loss", "top-out"))
        elapsed = time.perf_counter() - start
    wins = sum(sum(v) for v in per_level.values())
    low, high = wilson(wins, args.games)
    print(f"greedy vs random, {args.games} games at levels {LEVELS[0]}-{LEVELS[-1]} (low speed), {elapsed:.0f} s")
    print(f"greedy win rate {wins / args.games:.3f} ({wins}/{args.games}), Wilson 95% [{low:.3f}, {high:.3f}]")
    print("random's ends:", dict(ends))
    for level, results in sorted(per_level.items()):
        print(f"  level {level}: {sum(results)}/{len(results)}")
    if args.seconds > 0:
        dps, fps = decisions_per_second(args.seconds)
        print(f"placement decisions/s {dps:.1f} ({fps:.0f} emulator frames/s), random placements vs the random opponent")


if __name__ == "__main__":
    main()
