"""Env throughput: raw emulator vs emurl's env vs stable-retro + SB3's AtariWrapper, and vector envs.

Runs :func:`emurl.bench.run_bench` on each game (every measurement in its own process,
one after the other) and writes ``docs/performance.md`` and ``docs/performance.json``.

Usage::

    .venv/bin/python benchmarks/bench_env.py                 # the three default games, 5 s each
    .venv/bin/python benchmarks/bench_env.py --seconds 10 --games Pong-Atari2600
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GAMES = ["Airstriker-Genesis", "Breakout-Atari2600", "Pong-Atari2600"]
DS_POINTER = "\nNintendo DS backends on MiniKart: see [performance-ds.md](performance-ds.md) (`python benchmarks/bench_ds.py`).\n"


def _p90_ratio(r: dict) -> float:
    """vec2 / vec1 of their 90th-percentile round rates (rounds least slowed by other work)."""
    import numpy as np

    return float(np.percentile(r["rounds"]["vec2"], 90) / np.percentile(r["rounds"]["vec1"], 90))


def _met(value: float, target: float) -> str:
    return "met" if value >= target else "**not met**"


def render_markdown(results: list[dict], command: str) -> str:
    from emurl.bench import TARGETS, format_table

    meta = results[0]["meta"]
    v = meta["versions"]
    loads = [r["meta"]["loadavg_before"] for r in results] + [results[-1]["meta"]["loadavg_after"]]
    loads = [x for x in loads if x]
    spread = [(max(x) - min(x)) / (sum(x) / len(x)) for r in results for x in r["rounds"].values()]
    shared = max(x[0] for x in loads) > 0.9 * meta["cpu_count"]  # more than the benchmark's own load
    lines = [
        "# Env throughput",
        "",
        "How fast emurl's env runs next to the bare emulator it drives and next to the usual",
        "stable-retro + Stable-Baselines3 stack, on the same Atari-style pipeline (frame skip 4,",
        "max of the last two frames, 84×84 gray, 4-frame stack, reward clip), with random actions",
        "and a reset at every episode end. Every number comes from one run of one command. Each",
        "subject (raw emulator replaying the env's calls, playing without resets and idle; env; peer;",
        "1- and 2-process vector env) ran in its own process;",
        f"after a warm-up they took turns, {meta['rounds']} rounds of ~{meta['seconds'] / meta['rounds']:.2f} s each, "
        f"{meta['seconds']:g} s per subject and game.",
        "",
        f"- **Date**: {meta['date']} (UTC)",
        f"- **Command**: `{command}`",
        f"- **Machine**: {meta['cpu']}, {meta['cpu_count']} logical CPUs, {meta['platform']}",
        f"- **Versions**: emurl {v['emurl']}, stable-retro {v['stable-retro']}, gymnasium {v['gymnasium']}, "
        f"stable-baselines3 {v['stable-baselines3']}, numpy {v['numpy']}, OpenCV {v['opencv-python-headless']}, "
        f"Python {v['python']}; fused gray+resize kernel: {meta['fastops']}",
        ("- **Load**: the machine was shared with other jobs: 1-minute load average "
         if shared else
         "- **Load**: nothing else ran (the load is the benchmark's own processes): 1-minute load average ")
        + f"{min(x[0] for x in loads):.1f}–{max(x[0] for x in loads):.1f} on {meta['cpu_count']} CPUs during the run, "
        f"and a subject's rate moved by up to {max(spread):.0%} between rounds (median {sorted(spread)[len(spread) // 2]:.0%}). "
        + ("Rates are lower and noisier than on an idle machine; taking turns spreads the noise over all "
           "subjects alike, but the ratios keep some of it. "
           if shared else "")
        + "The `env:` rows (time inside the emulator's "
        "frames vs the rest, in one process and the same time windows) are the steadier measure of "
        "emurl's own overhead.",
        "",
        "## Targets",
        "",
        "| target | " + " | ".join(r["game"] for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    names = {
        "overhead_ratio": "env ≥ 0.9 × raw emulator (time per agent step, raw replaying the env's calls)",
        "speedup_vs_peer": "env steps/s ≥ 1.3 × peer steps/s",
        "vec2_scaling": "2-process vector env ≥ 1.7 × 1 process",
    }
    for key, target in TARGETS.items():
        cells = [f"{r[key]:.3f} — {_met(r[key], target)}" for r in results]
        lines.append(f"| {names[key]} | " + " | ".join(cells) + " |")
    cells = [f"{r['env_detail']['emulator_share']:.3f}" for r in results]
    lines.append("| *(for comparison) env's time share inside emulator frames, same process* | " + " | ".join(cells) + " |")
    met = [(r["game"], k) for r in results for k, t in TARGETS.items() if r[k] >= t]
    missed = [(r["game"], k) for r in results for k, t in TARGETS.items() if r[k] < t]
    lines += ["", f"Met: {len(met)} of {len(met) + len(missed)}. "
              + ("Not met: " + "; ".join(f"{k} on {g}" for g, k in missed) + "." if missed else "All met."),
              "",
              "The last row is not a target: it is the overhead ratio measured inside the env's own",
              "process (time in the emulator's frames ÷ all the time, resets included), free of the",
              "drift between two processes' turns (load still slows both of its parts)."]
    lines += ["", "## What limits the numbers", ""]
    lines += notes(results)
    for r in results:
        lines += ["", f"## {r['game']} ({r['system']})", "", format_table(r)]
    lines += [
        "",
        "## Definitions",
        "",
        "- **raw emulator**: the bare `RetroBackend`, in its own process, replays in a loop the",
        "  calls the env made on its emulator during an untimed recorded pass of whole episodes",
        "  (the env's random actions from its first reset, at least 2000 agent steps): `load_state`",
        "  (each reset; on Stella this reloads the core), `set_buttons` and `step`. So it emulates",
        "  the same frames with the same buttons and the same resets as the env, and the overhead",
        "  ratio is the share of the env's time that is emulator work, as the target defines it.",
        "  Screen and memory reads are left out of the replay: they count as the env's work.",
        "  The replay's frames include the resets' random no-op frames (up to 30, as in the env),",
        "  which the env's frames/s (steps × 4) leaves out, so the ratio compares time per agent",
        "  step: the env's steps/s ÷ the replay's (its frames/s × the trace's steps ÷ frames).",
        "  The *without resets* row sets the env's random buttons every 4 frames from the default",
        "  state, reloaded untimed at the start of each turn (the raw rate of earlier runs). The",
        "  *idle* row leaves out buttons and reloads: the game then sits on its game-over or",
        "  attract screen, whose frames cost a different time.",
        "- **emurl env**: `emurl.make(game, pipeline=\"atari\")`, pre-generated random actions, reset",
        "  at each episode end (resets count in the rate). Its emulator's `step` is wrapped in a",
        "  timer (~1 µs a step) for the `env:` rows: time in the emulator's frames, in resets, the rest.",
        "- **peer**: `stable_retro.make(game + \"-v0\", render_mode=\"rgb_array\",",
        "  use_restricted_actions=Actions.DISCRETE)` → SB3 `AtariWrapper(noop_max=0, frame_skip=4,",
        "  screen_size=84, terminal_on_life_loss=False, clip_reward=True)` → Gymnasium",
        "  `FrameStackObservation(4)`. `AtariWrapper` reads ALE's `get_action_meanings()` to decide",
        "  on `FireResetEnv`; RetroEnv has none, so the benchmark gives it one without \"FIRE\"",
        "  (no fire-reset, an ALE-specific step), and `noop_max=0` leaves out the no-op resets.",
        "- **vector env**: `emurl.vector.make_vec_env(game, n)`, one process per env with",
        "  observations in shared memory; steps/s summed over the envs.",
        "- Every process runs OpenCV single-threaded (`cv2.setNumThreads(1)`); only the peer uses it.",
        "- Rates are rounded to 0.1, ratios to 0.001. Raw numbers: `docs/performance.json`.",
    ]
    return "\n".join(lines) + "\n"


def notes(results: list[dict]) -> list[str]:
    """What limits the numbers, with this run's figures."""
    out = []
    atari = [r for r in results if r["system"] == "Atari2600" and r["env_detail"].get("reset_ms")]
    if atari:
        figs = "; ".join(
            f"{r['game']}: {r['env_detail']['reset_ms']:.1f} ms a reset, one every "
            f"{r['env_detail']['steps_per_episode']:.0f} steps, {r['env_detail']['reset_share']:.1%} of the env's time"
            for r in atari
        )
        out += [
            "- **Stella resets.** stable-retro's `Emulator::unserialize` reloads the whole Stella core",
            "  on every savestate load (`dlclose`/`dlopen`, then `retro_load_game`, whose console set-up",
            "  emulates frames to detect the TV format), so an Atari reset costs as much as a dozen or",
            f"  more agent steps ({figs}). They are emulator work: the raw replay pays the same",
            "  reloads, and so does the peer. stable-retro does this on purpose (\"Stella does not",
            "  properly clear everything when resetting or loading a savestate\"), so emurl keeps it.",
        ]
    for r in results:
        d = r["env_detail"]
        out.append(
            f"- **{r['game']}**: outside the emulator the env spends {d['overhead_us_per_step']:.1f} µs a step "
            f"(resets excluded) against {d['emulator_us_per_step']:.1f} µs of emulation "
            f"({d['emulator_share_without_resets']:.1%} of the time in the emulator, resets excluded)."
        )
    k = [(r["game"], r["screen"], r["gray_resize_us"]) for r in results if r.get("gray_resize_us")]
    if k:
        out.append(
            "- **The fused kernel** (`emurl._fastops`: gray + `INTER_AREA` resize in one pass): "
            + "; ".join(f"{g} {s[0]}×{s[1]} → 84×84 in {u['fastops']} µs (cv2: {u['cv2']} µs)" for g, s, u in k
                        if u["fastops"] is not None)
            + ". Two screen reads a step for the max-pool (stable-retro's `get_screen` converts the core's"
            " pixels into a new array) and Gymnasium's frame stack cost about as much again."
        )
    out += [
        "- **Speedup vs peer** is bounded by the emulator, which both stacks run: the peer's extra",
        "  cost (RetroEnv reads the screen and copies RAM every frame; SB3's wrappers run per frame",
        "  in Python) is a fixed few hundred µs per step, so 1.3× needs it to reach 30% of the env's",
        "  own step time, emulator included — the faster the core and the more resets, the harder.",
        "  The *raw emulator ÷ peer* row is that bound, measured: the speedup an env would have if",
        "  nothing but the emulator's own work cost anything. "
        + "; ".join(f"{r['game']}: {r['emulator_vs_peer']:.3f}" for r in results if "emulator_vs_peer" in r) + ".",
        "- **Vector scaling** needs a free CPU per env process: on a machine already loaded by other",
        "  jobs, two env processes share what is left with the parent that steps them. On 2 cores",
        "  the parent that steps them takes its share too ("
        + "; ".join(f"{r['game']}: {r['cpu_share']['vec2']:.0%} of a core" for r in results if "cpu_share" in r)
        + "), and a synchronous vector env (SB3's contract: a step returns every env's next",
        "  observation, the reset one after an episode's end) waits for its slowest env, so while",
        "  one env reloads Stella for a reset the other's core idles: on Breakout one core idles",
        "  ~11 ms per ~80 vector steps (~90 ms), about 6% of the two cores' time. The scaling also",
        "  moves between runs: sessions 5 and 7 read 1.73 and 1.66 (Airstriker), 1.56 and 1.61",
        "  (Breakout), 1.70 and 1.62 (Pong). It suffers most from a noisy machine: a 2-process round",
        "  needs both CPUs at once, so when the host takes time from one of them, it falls towards",
        "  one CPU's rate while a 1-process round barely notices. In this run, the ratio of the",
        "  subjects' 90th-percentile rounds (the least disturbed) was "
        + "; ".join(f"{r['game']}: {_p90_ratio(r):.3f}" for r in results if "rounds" in r)
        + " (not the target's measure; the target uses all the time).",
    ]
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--games", nargs="+", default=GAMES)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=ROOT / "docs")
    p.add_argument("--render-only", action="store_true", help="rewrite performance.md from performance.json")
    a = p.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from emurl.bench import format_table, run_bench

    if a.render_only:
        saved = json.loads((a.out / "performance.json").read_text())
        (a.out / "performance.md").write_text(render_markdown(saved["results"], saved["command"]) + DS_POINTER)
        print(f"wrote {a.out / 'performance.md'}")
        return 0

    results = []
    for game in a.games:
        print(f"benchmarking {game} ...", flush=True)
        r = run_bench(game, a.seconds, a.seed)
        print(format_table(r), flush=True)
        results.append(r)
    command = "python benchmarks/bench_env.py" + ("" if a.games == GAMES else " --games " + " ".join(a.games))
    command += "" if a.seconds == 5.0 else f" --seconds {a.seconds:g}"
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "performance.json").write_text(json.dumps({"command": command, "results": results}, indent=2) + "\n")
    (a.out / "performance.md").write_text(render_markdown(results, command) + DS_POINTER)
    print(f"wrote {a.out / 'performance.md'} and {a.out / 'performance.json'}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
