#!/usr/bin/env python3
"""Frames per second of MiniKart on one emulator: menu to a race, then 3000 frames
with A held (steering right every third 40-frame block), timing only the emulator steps.

usage: bench_fps.py desmume|melonds [track]
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from mkemu import open_backend, read_state  # noqa: E402

backend = sys.argv[1]
track = int(sys.argv[2]) if len(sys.argv) > 2 else 0
emu = open_backend(backend)
for step in range(22 + 2 * track):
    keys = {10: ["START"], 20 + 2 * track: ["A"]}.get(step, [])
    if track and step == 14:
        keys = ["DOWN"]
    emu.step(keys)
assert read_state(emu)["race_frame"] == 1, read_state(emu)
t0 = time.perf_counter()
for f in range(3000):
    emu.step(["A", "RIGHT"] if (f // 40) % 3 == 2 else ["A"])
dt = time.perf_counter() - t0
st = read_state(emu)
print(f"{backend}: 3000 race frames in {dt:.2f} s = {3000 / dt:.0f} frames/s; "
      f"race_frame={st['race_frame']} progress={st['progress'] / 4096:.3f} max_lines={st['max_lines']}")
