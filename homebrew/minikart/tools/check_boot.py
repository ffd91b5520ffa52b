#!/usr/bin/env python3
"""Boot check for MiniKart on one emulator (no BIOS/firmware files needed).

usage: check_boot.py desmume|melonds [track]     (one emulator and track per process)
From power-on: the title scene is up after step 0 (frame 1); START at step 10 opens
the menu, DOWN at step 14 picks track 1, A at step 20; step 21 is race frame 1. Then
390 frames of A plus simple steering must make race progress grow.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from mkemu import load_samples, open_backend, read_state  # noqa: E402

backend = sys.argv[1]
track = int(sys.argv[2]) if len(sys.argv) > 2 else 0
emu = open_backend(backend)
samples = load_samples(track)
emu.step([])
st = read_state(emu)
assert st["magic"] == 0x54524B4D and st["scene"] == 0 and st["frame"] == 1 and st["num_tracks"] == 2, st
for step in range(1, 22):
    keys = {10: ["START"], 20: ["A"]}.get(step, [])
    if track and step == 14:
        keys = ["DOWN"]
    emu.step(keys)
    st = read_state(emu)
    if step == 10:
        assert st["scene"] == 1, st
    if step < 21:
        assert st["race_frame"] == 0 and st["driver_ptr"] == 0, st
assert st["scene"] == 2 and st["race_frame"] == 1 and st["track"] == track and st["frame"] == 22, st
p0 = st["progress"]
for _ in range(390):
    keys = ["A"]
    if st["race_frame"] > 90:
        x, y = st["x"] / 4096, st["y"] / 4096
        i = min(range(len(samples)), key=lambda k: (samples[k][0] - x) ** 2 + (samples[k][1] - y) ** 2)
        tx, ty = samples[(i + 7) % len(samples)]
        err = (math.atan2(ty - y, tx - x) - st["angle"] * 2 * math.pi / 65536 + math.pi) % (2 * math.pi) - math.pi
        keys += ["RIGHT"] if err > 0.06 else ["LEFT"] if err < -0.06 else []
    emu.step(keys)
    st = read_state(emu)
assert st["progress"] > p0 + 0.3 * 4096 and st["cp"] >= 4, st
print(f"{backend} track {track}: boot, menu (race frame 1 at step 21) and driving OK: "
      f"race frame {st['race_frame']}, cp {st['cp']}, progress {st['progress'] / 4096:.3f}")
