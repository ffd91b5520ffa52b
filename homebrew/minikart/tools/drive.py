#!/usr/bin/env python3
"""Drive MiniKart on one emulator and write a per-frame trace.

usage: drive.py BACKEND --track T --frames N [--keys-in F | --keys-out F] [--trace-out F]
                [--png DIR --png-at STEP]

From power-on: START at step 10, DOWN at step 14 (track 1 only), A at step 20 -> race
frame 1 at step 21. After that either a simple closed-loop autopilot (steers at the next
checkpoint, holds A; its key log can be saved with --keys-out) or a replayed key log.
The trace has one line per step: step, race frame, x, y, speed, angle, floor, lap,
checkpoint, progress, race time, scene, scanlines used.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from mkemu import load_samples, open_backend, read_state  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("backend")
ap.add_argument("--track", type=int, default=0)
ap.add_argument("--frames", type=int, default=2400)
ap.add_argument("--keys-in")
ap.add_argument("--keys-out")
ap.add_argument("--trace-out")
ap.add_argument("--png")
ap.add_argument("--png-at", type=int, default=-1)
ap.add_argument("--quiet", action="store_true")
a = ap.parse_args()

emu = open_backend(a.backend)
menu = {10: ["START"], 20: ["A"]}
for i in range(a.track):
    menu[14 + 2 * i] = ["DOWN"]
replay = json.load(open(a.keys_in)) if a.keys_in else None

# centre-line samples for the autopilot, read from the ROM's generated header
samples = None


def autopilot(st):
    """Aim at the centre line 28 px ahead of the nearest sample; drift on sharp turns."""
    global samples
    if samples is None:
        samples = load_samples(a.track)
    x, y = st["x"] / 4096, st["y"] / 4096
    n = len(samples)
    i = min(range(n), key=lambda k: (samples[k][0] - x) ** 2 + (samples[k][1] - y) ** 2)
    tx, ty = samples[(i + 7) % n]
    want = math.atan2(ty - y, tx - x)
    have = st["angle"] * 2 * math.pi / 65536
    err = (want - have + math.pi) % (2 * math.pi) - math.pi
    keys = ["A"]
    if err > 0.06:
        keys.append("RIGHT")
    elif err < -0.06:
        keys.append("LEFT")
    if abs(err) > 0.6:
        keys.append("R")
    return keys


log, trace = [], []
t0 = time.perf_counter()
st = read_state(emu)
for step in range(a.frames):
    if replay is not None:
        keys = replay[step] if step < len(replay) else []
    elif step in menu:
        keys = menu[step]
    elif st.get("race_ptr") and st["scene"] == 2 and st["race_frame"] > 0:
        keys = autopilot(st)
    else:
        keys = []
    log.append(keys)
    emu.step(keys)
    st = read_state(emu)
    row = [step, st["race_frame"], st.get("x"), st.get("y"), st.get("speed"), st.get("angle"),
           st.get("floor"), st.get("lap"), st.get("cp"), st.get("progress"), st.get("time"),
           st["scene"], st["lines"]]
    trace.append(row)
    if not a.quiet and (step % 120 == 0 or (st["scene"] == 3 and trace[-2][11] == 2)):
        print(row, flush=True)
    if step == a.png_at and a.png:
        import imageio
        os.makedirs(a.png, exist_ok=True)
        for k, img in emu.screens().items():
            if img is not None:
                imageio.imwrite(os.path.join(a.png, f"{a.backend}_track{a.track}_{k}.png"), img)
dt = time.perf_counter() - t0
print(f"{a.backend}: {a.frames} steps in {dt:.1f} s = {a.frames / dt:.0f} steps/s (incl. state reads)")
st = read_state(emu)
print("final", {k: st.get(k) for k in ("scene", "race_frame", "lap", "cp", "progress", "time", "finished", "lap_times", "max_lines")})
if a.keys_out:
    json.dump(log, open(a.keys_out, "w"))
if a.trace_out:
    json.dump(trace, open(a.trace_out, "w"))
