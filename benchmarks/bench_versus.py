"""Two-player throughput on MiniDoc-Nes: the bare FCEUmm emulator vs emurl's two-seat env.

Each subject runs in its own process (one emulator per process), one after the other, for
``--seconds`` each, and they take turns in rounds so that a noisy machine slows them alike:

- **raw**: FCEUmm through emurl's stable-retro backend, from the ``2P_L0_Low`` state: per
  agent step, a random frame-level combo on each of the two ports and ``frame_skip`` frames;
  the state is reloaded when the round ends (the mode byte 0x0046 reads 7, game over:
  ``MEMORY.md``), as the env ends its episode there, or after 400 steps (no scenario, no
  observation). Reloading only every 400 steps would let raw spend about two thirds of
  its frames on the game-over screen, which FCEUmm emulates ~5% faster than a round in
  play (202 against 212 us a frame, measured): the env, which plays rounds only, would be
  held to a cheaper workload;
- **env (rgb)** / **env (features)**: ``EmulatorEnv(players=2, action_set="frame")`` with the
  dense per-seat scenarios, random actions for both seats, resets at episode ends (each
  reset draws a seeded layout); the observation is the screen, or each seat's planes and
  vector.

The ratio env ÷ raw is per agent step; the target is 0.9 (as for one player). Each subject
also reports steps per CPU second of its process (``time.process_time``): on a machine
that other work loads, that ratio moves less than the wall-clock one. Writes
``docs/performance-versus.md`` and ``.json``.

Usage::

    .venv/bin/python benchmarks/bench_versus.py --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GAME = "MiniDoc-Nes"
STATE = "2P_L0_Low"
MODE, GAME_OVER = 0x0046, 7  # MiniDoc's mode byte and its value once a round has ended (MEMORY.md)


def _raw(seconds: float, frame_skip: int, episode: int, out) -> None:
    from emurl.emulators import open_emulator
    from emurl.games import load_integration

    integ = load_integration(GAME)
    emu = open_emulator(integ.require_rom(), integ.system)
    state = integ.load_state_bytes(STATE, "retro")
    buttons = list(emu.buttons)
    frame_set = [[], ["LEFT"], ["RIGHT"], ["DOWN"], ["A"], ["B"], ["LEFT", "A"], ["RIGHT", "A"], ["LEFT", "B"],
                 ["RIGHT", "B"], ["DOWN", "LEFT"], ["DOWN", "RIGHT"]]
    table = np.zeros((len(frame_set), len(buttons)), np.uint8)
    for i, combo in enumerate(frame_set):
        for b in combo:
            table[i, buttons.index(b)] = 1
    rng = np.random.default_rng(0)
    acts = rng.integers(0, len(frame_set), (1 << 16, 2))
    emu.load_state(state)
    steps, since, t0, c0 = 0, 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        for _ in range(64):
            a = acts[steps % len(acts)]
            emu.set_buttons(table[a[0]], 0)
            emu.set_buttons(table[a[1]], 1)
            emu.step(frame_skip)
            steps += 1
            since += 1
            if since == episode or emu.read(MODE, "|u1") == GAME_OVER:
                emu.load_state(state)
                since = 0
    out.put((steps / (time.perf_counter() - t0), steps / (time.process_time() - c0)))
    emu.close()


def _env(seconds: float, frame_skip: int, obs_type: str, out) -> None:
    from emurl.envs import EmulatorEnv

    env = EmulatorEnv(GAME, state=STATE, players=2, action_set="frame", frame_skip=frame_skip, obs_type=obs_type)
    rng = np.random.default_rng(0)
    acts = rng.integers(0, 12, (1 << 16, 2))
    env.reset(seed=0)
    steps, episodes, t0, c0 = 0, 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        for _ in range(64):
            a = acts[steps % len(acts)]
            _, _, terminated, _, _ = env.step((int(a[0]), int(a[1])))
            steps += 1
            if terminated:
                episodes += 1
                env.reset(seed=episodes)
    out.put((steps / (time.perf_counter() - t0), steps / (time.process_time() - c0)))
    env.close()


def _measure(target, args, rounds: int) -> list[tuple[float, float]]:
    """(agent steps per wall second, per CPU second of the subject's process) of each round."""
    from emurl.emulators.process import mp_context

    ctx = mp_context()
    rates = []
    for _ in range(rounds):
        q = ctx.Queue()
        p = ctx.Process(target=target, args=(*args, q))
        p.start()
        rates.append(tuple(q.get(timeout=600)))
        p.join()
    return rates


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds per subject (all rounds together)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--frame-skip", type=int, default=4)
    ap.add_argument("--out", default=str(ROOT / "docs"), help="folder for performance-versus.md/.json")
    args = ap.parse_args(argv)
    per = args.seconds / args.rounds
    subjects = {
        "raw": (_raw, (per, args.frame_skip, 400)),
        "env_rgb": (_env, (per, args.frame_skip, "rgb")),
        "env_features": (_env, (per, args.frame_skip, "features")),
    }
    rates: dict[str, list[float]] = {k: [] for k in subjects}
    cpu_rates: dict[str, list[float]] = {k: [] for k in subjects}
    for _ in range(args.rounds):  # take turns: a noisy moment slows every subject alike
        for name, (fn, fargs) in subjects.items():
            for wall, cpu in _measure(fn, fargs, 1):
                rates[name].append(wall)
                cpu_rates[name].append(cpu)
    med = {k: float(np.median(v)) for k, v in rates.items()}
    cpu = {k: float(np.median(v)) for k, v in cpu_rates.items()}
    result = {
        "game": GAME, "state": STATE, "frame_skip": args.frame_skip, "seconds": args.seconds, "rounds": rates,
        "agent_steps_per_s": med, "raw_frames_per_s": med["raw"] * args.frame_skip,
        "ratio_rgb": med["env_rgb"] / med["raw"], "ratio_features": med["env_features"] / med["raw"],
        "cpu_rounds": cpu_rates, "agent_steps_per_cpu_s": cpu,
        "cpu_ratio_rgb": cpu["env_rgb"] / cpu["raw"], "cpu_ratio_features": cpu["env_features"] / cpu["raw"],
        "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "cpu_count": os.cpu_count(),
        "platform": platform.platform(), "load_average": os.getloadavg(),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "performance-versus.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# Two-player throughput (MiniDoc-Nes)",
        "",
        f"`python benchmarks/bench_versus.py --seconds {args.seconds:g}` on {result['date']} UTC, "
        f"{result['cpu_count']} CPUs ({result['platform']}), load average {result['load_average'][0]:.2f} at the "
        f"end; frame skip {args.frame_skip}, both seats random frame-level actions, medians of the rounds. See the "
        "script's docstring for what each subject does.",
        "",
        "| subject | agent steps/s | frames/s | ÷ raw | steps per CPU s | ÷ raw (CPU) |",
        "|---|---|---|---|---|---|",
    ]
    for name in subjects:
        lines.append(f"| {name} | {med[name]:.0f} | {med[name] * args.frame_skip:.0f} | {med[name] / med['raw']:.3f} "
                     f"| {cpu[name]:.0f} | {cpu[name] / cpu['raw']:.3f} |")
    lines += ["", f"Target: the two-seat env at ≥ 0.9 × raw. rgb: {result['ratio_rgb']:.3f}; "
              f"features (both seats' planes every step): {result['ratio_features']:.3f} "
              f"(per CPU second: {result['cpu_ratio_rgb']:.3f} / {result['cpu_ratio_features']:.3f}).", ""]
    (out / "performance-versus.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
