"""The benchmark's result as a Markdown table, and the targets it is read against."""

from __future__ import annotations

TARGETS = {"overhead_ratio": 0.9, "speedup_vs_peer": 1.3, "vec2_scaling": 1.7}


def _spread(result: dict, name: str) -> str:
    v = result.get("rounds", {}).get(name)
    return f"rounds {min(v):.1f}–{max(v):.1f}" if v else ""


def format_table(result: dict) -> str:
    """A Markdown table of one :func:`run_bench` result."""
    r, d = result, result.get("env_detail", {})

    def target(key):
        if key not in TARGETS:
            return ""
        return f"≥ {TARGETS[key]} — {'met' if r[key] >= TARGETS[key] else '**not met**'}"

    rows = [
        ("raw emulator, frames/s", f"{r['emulator_fps']:.1f}",
         "replaying the env's own emulator calls (frames, buttons, resets: "
         + (f"{r['trace']['steps']} steps, {r['trace']['resets']} resets); " if "trace" in r else "); ")
         + _spread(r, "emulator")),
        ("raw emulator without resets, frames/s", f"{r.get('emulator_fps_play', float('nan')):.1f}",
         "the env's random buttons, no reload within a turn; " + _spread(r, "emulator_play")),
        ("raw emulator left idle, frames/s", f"{r['emulator_fps_idle']:.1f}", "no buttons, no reloads; " + _spread(r, "emulator_idle")),
        ("emurl env (atari pipeline), steps/s", f"{r['env_steps_per_s']:.1f}",
         f"= {r['env_frames_per_s']:.1f} frames/s; {_spread(r, 'env')}"),
        ("overhead ratio (env steps/s ÷ raw replay's)", f"{r['overhead_ratio']:.3f}",
         target("overhead_ratio")
         + (f"; the replay runs the env's agent steps at {r['emulator_steps_per_s']:.1f}/s "
            "(its frames include the resets' no-op frames)" if "emulator_steps_per_s" in r else "")),
        ("peer (stable-retro + SB3 AtariWrapper), steps/s", f"{r['peer_steps_per_s']:.1f}", _spread(r, "peer")),
        ("speedup vs peer", f"{r['speedup_vs_peer']:.3f}", target("speedup_vs_peer")),
        ("raw emulator ÷ peer", f"{r.get('emulator_vs_peer', float('nan')):.3f}",
         "the most any env around this emulator could gain on the peer (raw replay's steps/s ÷ peer steps/s)"),
        ("vector env, 1 process, steps/s", f"{r['vec1_steps_per_s']:.1f}", _spread(r, "vec1")),
        ("vector env, 2 processes, steps/s", f"{r['vec2_steps_per_s']:.1f}", "summed over the envs; " + _spread(r, "vec2")),
        ("vec2 scaling", f"{r['vec2_scaling']:.3f}", target("vec2_scaling")),
    ]
    if d:
        rows += [
            ("env: time in emulator frames", f"{d['emulator_share']:.3f}",
             f"{d['emulator_share_without_resets']:.3f} leaving resets out"),
            ("env: µs per step outside the emulator", f"{d['overhead_us_per_step']:.1f}",
             f"emulator {d['emulator_us_per_step']:.1f} µs per step (4 frames); resets excluded"),
            ("env: reset, ms", "n/a" if d["reset_ms"] is None else f"{d['reset_ms']:.1f}",
             "n/a" if d["steps_per_episode"] is None
             else f"{d['steps_per_episode']:.0f} steps per episode; resets take {d['reset_share']:.1%} of the time"),
        ]
    k = r.get("gray_resize_us")
    if k:
        shape = "×".join(str(x) for x in r.get("screen", [])[:2])
        rows.append(("gray + resize of one screen to 84×84, µs", "n/a" if k["fastops"] is None else f"{k['fastops']:.1f}",
                     f"`emurl._fastops`, {shape} RGB; cv2 `cvtColor` + `resize`: {k['cv2']:.1f} µs"))
    lines = ["| measure | value | note |", "|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


__all__ = ["TARGETS", "format_table"]
