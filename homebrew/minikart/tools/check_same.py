#!/usr/bin/env python3
"""Both emulators must give the same per-frame game state for the same inputs.

usage: check_same.py [track] [frames]
Runs drive.py on desmume (autopilot, logging its keys), replays the key log on melonDS,
and compares (step, race frame, x, y, speed, angle, floor, lap, checkpoint, progress,
race time, scene) for every step from power-on.
"""
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
track = sys.argv[1] if len(sys.argv) > 1 else "0"
frames = sys.argv[2] if len(sys.argv) > 2 else "2400"
py = sys.executable
with tempfile.TemporaryDirectory() as d:
    keys, t_ds, t_mel = (os.path.join(d, n) for n in ("keys.json", "ds.json", "mel.json"))
    for args in (["desmume", "--keys-out", keys, "--trace-out", t_ds],
                 ["melonds", "--keys-in", keys, "--trace-out", t_mel]):
        r = subprocess.run([py, os.path.join(here, "drive.py"), *args, "--track", track, "--frames", frames,
                            "--quiet"], capture_output=True, text=True)
        print("\n".join(line for line in r.stdout.splitlines() if line.startswith(("desmume", "melonds", "final"))))
        if r.returncode:
            sys.exit(r.stderr[-3000:])
    a, b = json.load(open(t_ds)), json.load(open(t_mel))
diff = [(x, y) for x, y in zip(a, b) if x[:12] != y[:12]]
laps = max((r[7] or 0) for r in a)
print(f"track {track}: {len(a)} steps compared, {len(diff)} differ; laps reached {laps}")
if diff or len(a) != len(b):
    print("first differences:", diff[:3])
    sys.exit(1)
