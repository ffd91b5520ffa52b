"""What watching costs: a worker's steps/s unwatched and watched, and the viewer's frames/s.

1. Worker steps/s (in this process: one env, random actions, the env's default
   observation) in four settings, each measured ``--seconds`` per round, ``--rounds`` rounds
   interleaved, the median counting, per second of wall time and per second of the
   worker's CPU time (its own work, which a shared machine's load does not change):

   - ``bare``: the env alone;
   - ``unwatched``: wrapped by :func:`emurl.vector.frames.publish_frames`, nobody reading;
   - ``watched``: a reader process reading its block 30 times a second (what the viewer
     does, without the drawing);
   - ``viewer``: ``emurl watch`` itself drawing it at 30 frames/s (SDL's dummy driver; on a
     machine with fewer free cores than processes this also measures the two sharing a core).

2. The viewer's frames/s (``run_viewer(fps=0)``: as fast as it can) with ``--tiles`` tiles:
   a helper process publishes that many blocks of the game's real frames and overlays
   (recorded from the env), each 60 times a second; overlays off and all on.

Usage::

    SDL_VIDEODRIVER=dummy .venv/bin/python benchmarks/bench_watch.py                  # MiniKart, 8 tiles
    SDL_VIDEODRIVER=dummy .venv/bin/python benchmarks/bench_watch.py --game Airstriker-Genesis --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np  # noqa: E402

import emurl  # noqa: E402
from emurl.vector.frames import frame_name, publish_frames  # noqa: E402

READER = """
import sys, time
from emurl.vector.frames import FrameReader
r = FrameReader(sys.argv[1])
print("ready", flush=True)
while True:
    r.read()
    time.sleep(1 / 30)
"""

PUBLISHERS = """
import json, sys, time
import numpy as np
from emurl.vector.frames import FramePublisher, frame_name
job, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = np.load(path)
frames, overlays = data["frames"], json.loads(str(data["overlays"]))
pubs = [FramePublisher(frame_name(job, i), frames.shape[1:]) for i in range(n)]
print("ready", flush=True)
k = 0
while True:
    for i, p in enumerate(pubs):
        p.publish(frames[(k + i) % len(frames)], overlays[(k + i) % len(frames)])
    k += 1
    time.sleep(1 / 60)
"""


def steps_per_s(env, seconds: float) -> tuple[float, float]:
    """Steps per second of wall time and per second of this process's CPU time (the worker's
    own work: on a machine shared with other jobs the wall figure swings with their load)."""
    env.reset(seed=0)
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        n += 1
        if terminated or truncated:
            env.reset()
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def _start(args: list[str]) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    return p


def worker_cost(game: str, seconds: float, rounds: int) -> dict:
    job = f"benchwatch{os.getpid()}"
    published = publish_frames(emurl.make(game), 0, job)
    bare = published.env  # the same env without the wrapper (one emulator per process)
    name = frame_name(job, 0)
    results = {k: [] for k in ("bare", "unwatched", "watched", "viewer")}
    for _ in range(rounds):
        results["bare"].append(steps_per_s(bare, seconds))
        results["unwatched"].append(steps_per_s(published, seconds))
        reader = _start(["-c", READER, name])
        reader.stdout.readline()
        time.sleep(0.3)
        results["watched"].append(steps_per_s(published, seconds))
        reader.kill()
        reader.wait()
        viewer = _start(["-m", "emurl.cli", "watch", job, "--fps", "30"])
        time.sleep(2.0)  # pygame's start
        results["viewer"].append(steps_per_s(published, seconds))
        viewer.kill()
        viewer.wait()
        time.sleep(2.2)  # the publisher's linger runs out: unwatched again
    published.close()
    wall = {k: statistics.median(w for w, _ in v) for k, v in results.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in results.items()}
    return {"game": game, "seconds": seconds, "rounds": rounds, "steps_per_cpu_s": cpu, "steps_per_wall_s": wall,
            "all": results, "cpu": {"watched_vs_unwatched": cpu["watched"] / cpu["unwatched"],
                                    "viewer_vs_unwatched": cpu["viewer"] / cpu["unwatched"],
                                    "unwatched_vs_bare": cpu["unwatched"] / cpu["bare"]}}


def record(game: str, n: int, path: str) -> None:
    """``n`` frames and their overlays of the env, 4 agent steps apart, saved to ``path`` (npz)."""
    job = f"benchrec{os.getpid()}"
    env = publish_frames(emurl.make(game), 0, job)
    env.reset(seed=0)
    from emurl.vector.frames import FrameReader

    reader = FrameReader(frame_name(job, 0))
    frames, overlays = [], []
    for _ in range(n):
        for _ in range(4):
            reader.watch()
            env.step(env.action_space.sample())
        frame, overlay, _ = reader.read()
        overlay.setdefault("game", game)
        frames.append(frame)
        overlays.append(overlay)
    reader.close()
    env.close()
    np.savez(path, frames=np.stack(frames), overlays=json.dumps(overlays))


def viewer_fps(game: str, tiles: int, frames: int) -> dict:
    from emurl.watch.viewer import run_viewer  # pygame

    job = f"benchview{os.getpid()}"
    path = f"/tmp/{job}.npz"
    record(game, 30, path)
    pubs = _start(["-c", PUBLISHERS, job, str(tiles), path])
    pubs.stdout.readline()
    out = {"tiles": tiles}
    try:
        for layers, scale in (((), None), (("rays", "checkpoint", "vars", "buttons"), None), ((), 1.0)):
            stats = run_viewer(job, layers=layers, fps=0, frames=frames, scale=scale)
            assert stats.tiles == tiles, stats
            key = f"overlays_{'all' if layers else 'off'}_scale_{scale or 'auto'}"
            out[key] = round(stats.fps, 1)
    finally:
        pubs.kill()
        pubs.wait()
        os.unlink(path)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--game", default="MiniKart-NintendoDs")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tiles", type=int, default=8)
    ap.add_argument("--frames", type=int, default=300, help="viewer frames per measurement")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    res = {"worker": worker_cost(args.game, args.seconds, args.rounds),
           "viewer": viewer_fps(args.game, args.tiles, args.frames),
           "load_average": os.getloadavg(), "cpus": os.cpu_count()}
    print(json.dumps(res, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
