#!/usr/bin/env python3
"""Save PNGs of MiniKart's scenes from one emulator into screens/.

usage: screens.py desmume|melonds [track]
desmume gives both screens; stable-retro's melonDS core gives one screen (the bottom
one), so for melonDS the script also presses SELECT mid-race (swaps the screens,
display only) to capture the track screen.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from mkemu import load_samples, open_backend, read_state  # noqa: E402

backend = sys.argv[1]
track = int(sys.argv[2]) if len(sys.argv) > 2 else 0
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "screens")
os.makedirs(out, exist_ok=True)
emu = open_backend(backend)
samples = load_samples(track)


def save(tag):
    import imageio
    for k, img in emu.screens().items():
        if img is not None:
            imageio.imwrite(os.path.join(out, f"{backend}_track{track}_{tag}_{k}.png"), img)


def auto(st):
    x, y = st["x"] / 4096, st["y"] / 4096
    i = min(range(len(samples)), key=lambda k: (samples[k][0] - x) ** 2 + (samples[k][1] - y) ** 2)
    tx, ty = samples[(i + 7) % len(samples)]
    err = (math.atan2(ty - y, tx - x) - st["angle"] * 2 * math.pi / 65536 + math.pi) % (2 * math.pi) - math.pi
    return ["A"] + (["RIGHT"] if err > 0.06 else ["LEFT"] if err < -0.06 else [])


st = None
for step in range(2400):
    keys = {10: ["START"], 20: ["A"]}.get(step, [])
    if track and step == 14:
        keys = ["DOWN"]
    if st and st["scene"] == 2 and st["race_frame"] > 90:
        keys = auto(st)
    if backend == "melonds" and step in (700, 702):
        keys = keys + ["SELECT"]          # swap to see the track, then back
    emu.step(keys)
    st = read_state(emu)
    if step == 8:
        save("title")
    if step == 19:
        save("menu")
    if step == 60:
        save("countdown")
    if step == 700:
        save("race")
    if step == 701 and backend == "melonds":
        save("race_swapped")
    if st["scene"] == 3 and st["race_frame"] > 0 and not os.path.exists(
            os.path.join(out, f"{backend}_track{track}_finish_bottom.png")) and step > 1000:
        for _ in range(30):
            emu.step([])
        save("finish")
        break
print("saved", sorted(f for f in os.listdir(out) if f.startswith(f"{backend}_track{track}")))
