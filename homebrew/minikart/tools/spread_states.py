#!/usr/bin/env python3
"""Add start-state scripts spread along lap 1 to MiniKart's ``start_states.json``.

usage: spread_states.py KEYS_JSON --track T [--parts 8] [--start-frame 22] [--out FILE]

KEYS_JSON is ``drive.py --keys-out`` of the autopilot from power-on (one list of
buttons per frame). Each new script is the track's race-start script (``Track<T>``)
followed by the autopilot's inputs, run-length coded as ``press``/``wait`` steps, up to
race frame ``90 + k * lap_frames / parts`` (k = 1..parts-1; the countdown is 90 frames).
The scripts are plain input scripts, so ``scripts/make_start_states.py`` makes the same
moment on every backend (both backends follow the same trajectory for the same inputs).

Why: PPO episodes that all start at the line end at the first mistake, so the far end of
the track is rarely seen; training from states spread along the lap sees all of it from
the start (evaluation still starts at race frame 1).
"""
import argparse
import json
import os

COUNTDOWN = 90
LAP_FRAMES = 640  # the autopilot's lap of track 0 takes 632-663 frames

ap = argparse.ArgumentParser()
ap.add_argument("keys")
ap.add_argument("--track", type=int, default=0)
ap.add_argument("--parts", type=int, default=8)
ap.add_argument("--start-frame", type=int, default=22, help="frames from power-on to race frame 1 (the Track<T> state)")
ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "src", "emurl", "games",
                                              "data", "MiniKart-NintendoDs", "start_states.json"))
a = ap.parse_args()

keys = json.load(open(a.keys))
scripts = json.load(open(a.out))
base = f"Track{a.track}"
if base not in scripts:
    raise SystemExit(f"{a.out}: no {base!r} script to start from")


def rle(frames):
    steps = []
    for k in frames:
        k = sorted(k)
        if steps and steps[-1][0] == k:
            steps[-1][1] += 1
        else:
            steps.append([k, 1])
    return [{"wait": n} if not k else {"press": k, "frames": n} for k, n in steps]


for part in range(1, a.parts):
    race_frames = COUNTDOWN + part * LAP_FRAMES // a.parts
    drive = keys[a.start_frame:a.start_frame + race_frames - 1]
    if len(drive) < race_frames - 1:
        raise SystemExit(f"{a.keys}: only {len(keys)} frames; need {a.start_frame + race_frames}")
    scripts[f"{base}_part{part}"] = scripts[base] + rle(drive)

# one step per line: readable diffs
lines = ["{"]
for i, (name, steps) in enumerate(scripts.items()):
    body = ",\n  ".join(json.dumps(s) for s in steps)
    lines.append(f' "{name}": [\n  {body}\n ]' + ("," if i < len(scripts) - 1 else ""))
lines.append("}")
open(a.out, "w").write("\n".join(lines) + "\n")
print(f"{a.out}: {a.parts - 1} scripts {base}_part1..{a.parts - 1}")
