#!/usr/bin/env python3
"""Race-logic checks for MiniKart on one emulator (asserts; prints a summary).

usage: check_logic.py desmume|melonds [track]

1. menu sequence reaches race frame 1 at step 21 (START@10, DOWN@14 for track 1, A@20);
   the kart does not move during the 90-frame countdown;
2. holding A towards the centre line makes race progress grow, checkpoints advance;
3. a U-turn and driving the wrong way makes progress fall and checkpoints go back;
4. steering off the road gives floor 3 and the off-road speed cap; the wall gives floor 8;
5. R + steering at speed sets the drifting flag.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from mkemu import load_samples, open_backend, read_state  # noqa: E402  (samples: build/tracks_gen.h)

backend = sys.argv[1]
track = int(sys.argv[2]) if len(sys.argv) > 2 else 0
emu = open_backend(backend)
samples = load_samples(track)
N = len(samples)

step = 0


def run(keys, n=1):
    global step
    for _ in range(n):
        emu.step(keys)
        step += 1
    return read_state(emu)


def steer_keys(st, direction=+1, ahead=7, extra=()):
    x, y = st["x"] / 4096, st["y"] / 4096
    i = min(range(N), key=lambda k: (samples[k][0] - x) ** 2 + (samples[k][1] - y) ** 2)
    tx, ty = samples[(i + direction * ahead) % N]
    err = (math.atan2(ty - y, tx - x) - st["angle"] * 2 * math.pi / 65536 + math.pi) % (2 * math.pi) - math.pi
    keys = ["A", *extra]
    if err > 0.06:
        keys.append("RIGHT")
    elif err < -0.06:
        keys.append("LEFT")
    return keys, err


# 1. menu
for s in range(21):
    keys = {10: ["START"], 20: ["A"]}.get(s, [])
    if track and s == 14:
        keys = ["DOWN"]
    st = run(keys)
    assert st["race_frame"] == 0 and st["race_ptr"] == 0, (s, st)
st = run([])
assert st["race_frame"] == 1 and st["scene"] == 2 and st["track"] == track and st["frame"] == 22, st
start = (st["x"], st["y"])
for _ in range(89):
    st = run(["A", "RIGHT"])
assert st["race_frame"] == 90 and (st["x"], st["y"]) == start and st["speed"] == 0, st
st = run(["A"])
assert st["race_frame"] == 91 and st["speed"] > 0 and st["time"] == 1, st
print("countdown ok: race frame 91 is the first moving frame")

# 2. forward driving
prog = [st["progress"]]
for _ in range(240):
    keys, _ = steer_keys(st)
    st = run(keys)
    prog.append(st["progress"])
assert st["cp"] >= 3 and st["progress"] > 0.3 * 4096, st
drops = sum(1 for a, b in zip(prog, prog[1:]) if b < a)
print(f"forward ok: cp {st['cp']}, progress {st['progress'] / 4096:.3f}, decreases {drops}/{len(prog) - 1}")

# 5. drift (at speed, R + steering)
saw_drift = False
for _ in range(20):
    keys, _ = steer_keys(st)
    st = run(["A", "R", "LEFT"])
    saw_drift |= st["drifting"] == 1
assert saw_drift, st
print("drift ok")

# 3. U-turn and the wrong way
p_before = st["progress"]
cp_before = st["cp"]
for _ in range(200):
    keys, err = steer_keys(st, direction=-1)
    st = run(keys)
low = st["progress"]
assert low < p_before - 0.05 * 4096, (p_before, st)
print(f"wrong way ok: progress {p_before / 4096:.3f} -> {low / 4096:.3f}, cp {cp_before} -> {st['cp']}")
for _ in range(150):
    keys, _ = steer_keys(st, direction=-1)
    st = run(keys)
assert st["progress"] < low, st
print(f"  further: progress {st['progress'] / 4096:.3f}, cp {st['cp']}, lap {st['lap']}")

# 4. off-road then wall: turn 90 degrees to the outside and hold A
seen = set()
caps = set()
for _ in range(200):
    x, y = st["x"] / 4096, st["y"] / 4096
    i = min(range(N), key=lambda k: (samples[k][0] - x) ** 2 + (samples[k][1] - y) ** 2)
    # outward normal: away from the screen centre
    cx, cy = 128, 96
    want = math.atan2(y - cy, x - cx)
    err = (want - st["angle"] * 2 * math.pi / 65536 + math.pi) % (2 * math.pi) - math.pi
    keys = ["A"] + (["RIGHT"] if err > 0.06 else ["LEFT"] if err < -0.06 else [])
    st = run(keys)
    seen.add(st["floor"])
    if st["floor"] == 3:
        caps.add(st["max_speed"])
assert 3 in seen and 8 in seen, seen
assert caps == {3072 * 40 // 100}, caps
print(f"floors seen {sorted(seen)}; off-road cap {caps} (fx32)")
print(f"{backend} track {track}: all logic checks passed (step {step})")
