"""Nintendo DS overhead on MiniKart: emurl's env vs the same emulator calls without it.

    .venv/bin/python benchmarks/bench_ds.py [--steps 2000] [--rounds 3] [--out docs]

For each backend (desmume, melonds), ``--rounds`` times (the median is reported), two
processes one after the other (one emulator per process):

- env: ``emurl.make("MiniKart-NintendoDs", backend=..., pipeline="atari", max_pool=False,
  max_episode_steps=1500)`` (top screen, frame skip 4, 84x84 gray, 4 stacked; Python
  scenario reading 16 pointer variables per step) plays ``--steps`` agent steps of
  seeded random actions from ``reset(seed=0)``, resetting at every episode end. A first,
  traced pass records every call the env makes on its emulator (``load_state``,
  ``set_buttons``, ``set_touch``, ``step``, ``skip_render``, ``screen``) with its
  arguments; with the tracing removed, a second pass plays the identical, deterministic
  sequence and is timed (seconds).
- raw: the bare emulator, opened as the env opens it, replays that trace: the same
  calls with the same arguments in the same order, so the same frames, drawn or not,
  the same resets and the same screen reads. After an untimed warm-up on the trace's
  first calls, the whole trace is replayed from its start and timed (seconds).

The overhead ratio is ``raw seconds / env seconds``: the share of the env's time that the
emulator work alone takes (target >= 0.9, i.e. everything around the emulator -- memory
reads for the reward, the scenario, the action table, the observation pipeline, gymnasium
wrappers -- costs at most 10%). Also reported: raw frames/s of the replay, env agent
steps/s, and emulated frames per agent step (4, plus the frames of the resets).

Writes performance-ds.md and performance-ds.json into ``--out`` (default docs/).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import emurl
from emurl.bench import compile_trace, trace_emulator_calls
from emurl.emulators import open_emulator
from emurl.games import load_integration
from emurl.emulators.process import mp_context

ROOT = Path(__file__).resolve().parent.parent
GAME = "MiniKart-NintendoDs"
WARMUP_CALLS = 200  # trace calls the raw replay runs untimed before its timed replay


def _ram_digest(emu) -> str:
    """SHA-1 of the emulator's RAM: the replay is checked to end where the env ended."""
    return hashlib.sha1(emu.ram().tobytes()).hexdigest()


def _play(env, steps: int) -> tuple[int, float]:
    """``steps`` agent steps of seeded random actions from ``reset(seed=0)``, resetting at
    every episode end. Returns (resets after an episode end, total reward)."""
    rng = np.random.default_rng(0)
    n_actions = int(env.action_space.n)
    env.reset(seed=0)
    resets, total_reward = 0, 0.0
    for _ in range(steps):
        _, reward, terminated, truncated, _ = env.step(int(rng.integers(n_actions)))
        total_reward += reward
        if terminated or truncated:
            env.reset()
            resets += 1
    return resets, total_reward


def _env(backend: str, steps: int) -> dict:
    """The env subject: a traced pass, then the same sequence timed without tracing.

    Returns a dict: ``seconds`` (timed pass, wall-clock s), ``steps`` (agent steps),
    ``resets``, ``trace`` and ``states`` (see :func:`emurl.bench.trace_emulator_calls`), ``shown`` (the
    screen a one-screen backend outputs, or None) and ``ram`` (digest at the end).
    """
    env = emurl.make(GAME, backend=backend, pipeline="atari", max_pool=False, max_episode_steps=1500)
    try:
        emu = env.unwrapped.emulator
        trace, states, untrace = trace_emulator_calls(env)  # every traceable call
        try:
            traced_resets, traced_reward = _play(env, steps)
        finally:
            untrace()
        traced_ram = _ram_digest(emu)
        t0 = time.perf_counter()
        resets, total_reward = _play(env, steps)
        seconds = time.perf_counter() - t0
        if (resets, total_reward) != (traced_resets, traced_reward):
            raise RuntimeError(
                f"{backend}: the timed pass differs from the traced one (resets {resets} vs "
                f"{traced_resets}, reward {total_reward} vs {traced_reward}): not deterministic"
            )
        ram = _ram_digest(emu)
        return {"seconds": seconds, "steps": steps, "resets": resets, "trace": trace, "states": states,
                "shown": getattr(emu, "shown", None), "ram": ram, "same_ram_as_traced": ram == traced_ram}
    finally:
        env.close()


def _raw(backend: str, trace: list, states: dict, shown: str | None) -> dict:
    """The raw subject: the bare emulator replays ``trace``.

    Returns a dict: ``seconds`` (the timed full replay, first call to last, wall-clock s),
    ``frames`` (frames it ran: the sum of its ``step`` calls), ``calls``, ``ram`` (digest
    at the end).
    """
    integ = load_integration(GAME)
    emu = open_emulator(integ.require_rom(), integ.system, backend)
    try:
        if shown is not None:
            emu.show(shown)  # as the env set it up, before its first traced call
        calls = compile_trace(emu, trace, states)  # (bound method, args, frames), resolved before timing
        frames = sum(f for _, _, f in calls)
        for call, args, _ in calls[:WARMUP_CALLS]:
            call(*args)
        t0 = time.perf_counter()
        for call, args, _ in calls:
            call(*args)
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "frames": frames, "calls": len(calls), "ram": _ram_digest(emu)}
    finally:
        emu.close()


def _in_child(fn, *args):
    with mp_context().Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(fn, args)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000, help="agent steps per env pass (default 2000)")
    ap.add_argument("--rounds", type=int, default=3, help="env + raw measurements per backend; medians reported")
    ap.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for performance-ds.md/.json")
    a = ap.parse_args(argv)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    results = {}
    load_before = os.getloadavg()
    for backend in ("desmume", "melonds"):
        rounds = []
        for _ in range(a.rounds):
            env = _in_child(_env, backend, a.steps)
            raw = _in_child(_raw, backend, env["trace"], env["states"], env["shown"])
            rounds.append({
                "env_seconds": env["seconds"], "raw_seconds": raw["seconds"],
                "ratio": raw["seconds"] / env["seconds"],
                "raw_frames_per_s": raw["frames"] / raw["seconds"], "env_steps_per_s": env["steps"] / env["seconds"],
                "steps": env["steps"], "frames": raw["frames"], "resets": env["resets"], "calls": raw["calls"],
                "state_bytes": sum(len(s) for s in env["states"].values()),
                "env_same_ram_traced_vs_timed": env["same_ram_as_traced"],
                "replay_same_ram_as_env": raw["ram"] == env["ram"],
            })
        last = rounds[-1]
        r = {
            "raw_frames_per_s": statistics.median(x["raw_frames_per_s"] for x in rounds),
            "env_steps_per_s": statistics.median(x["env_steps_per_s"] for x in rounds),
            "frames_per_step": last["frames"] / last["steps"],
            "overhead_ratio": statistics.median(x["ratio"] for x in rounds),
            "steps": last["steps"], "frames": last["frames"], "resets": last["resets"], "calls": last["calls"],
            "rounds": rounds,
        }
        results[backend] = r
        same = all(x["replay_same_ram_as_env"] for x in rounds)
        print(f"{backend}: {r['steps']} steps, {r['resets']} resets, {r['frames']} frames "
              f"({r['frames_per_step']:.3f}/step), {r['calls']} emulator calls; raw replay "
              f"{r['raw_frames_per_s']:.0f} frames/s, env {r['env_steps_per_s']:.0f} steps/s, "
              f"ratio {r['overhead_ratio']:.3f}; replay ends in the env's RAM: {same}")
    command = "python benchmarks/bench_ds.py " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = {"command": command.strip(), "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "performance-ds.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    lines = [
        "# Nintendo DS overhead (MiniKart)",
        "",
        "emurl's env on the DS pixel pipeline (top screen, frame skip 4, 84×84 gray, 4 stacked,",
        "reward from 16 variables behind pointers) next to the bare emulator doing the same",
        "emulator work. The env plays seeded random actions of the race set from `reset(seed=0)`,",
        "resetting at every episode end; a first pass records every call it makes on its",
        "emulator (load state, buttons, frames, skip drawing, screen reads) and a second,",
        "identical pass without the recording is timed. In its own process the bare emulator",
        "replays that recording, call for call (after an untimed warm-up on its first",
        f"{WARMUP_CALLS} calls), timed. Ratio = replay time / env time: the share of the env's",
        "time the emulator work alone takes (target ≥ 0.9: everything around the emulator costs",
        "at most 10%). Each round runs the env, then the replay; medians of the rounds.",
        "",
        "Both draw exactly the frames the env draws: at frame skip 4 DeSmuME draws every frame,",
        "as its screen is the current picture only when its frame and the 3 before it were",
        "drawn (`render_settle`). (Until session 5 the env skipped drawing 3 frames of 4 and",
        "its observations were an older picture.)",
        "",
        f"Command: `{meta['command']}`; {meta['cores']} cores; load average before "
        f"{load_before[0]:.2f}, after {meta['loadavg_after'][0]:.2f}.",
        "",
        "| backend | raw frames/s (replay) | env steps/s | frames per step | ratio (raw time / env time) "
        "| target ≥ 0.9 | rounds |",
        "|---|---|---|---|---|---|---|",
    ]
    for b, r in results.items():
        met = "met" if r["overhead_ratio"] >= 0.9 else "**not met**"
        per_round = ", ".join(f"{x['ratio']:.3f}" for x in r["rounds"])
        lines.append(f"| {b} | {r['raw_frames_per_s']:.0f} | {r['env_steps_per_s']:.0f} | {r['frames_per_step']:.3f} | "
                     f"{r['overhead_ratio']:.3f} | {met} | {per_round} |")
    lines += [
        "",
        "Per backend: " + ", ".join(f"{b} {r['steps']} steps, {r['resets']} resets, {r['frames']} frames"
                                    for b, r in results.items()) + "; rounds column: each round's ratio.",
    ]
    (a.out / "performance-ds.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {a.out / 'performance-ds.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
