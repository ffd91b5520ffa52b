"""What a watched Mario Kart DS worker pays for the overlays, on a synthetic course (no ROM).

A course of ``--walls`` wall triangles scattered over 6000 × 6000 world units (the kart in
the middle, a camera behind it) is laid out in synthetic DS RAM (``tests/mkds_memory.py``,
the facts file's memory map). Per frame it times, over ``--frames`` frames, rounds
interleaved:

- ``observe``: the features observation alone (16 wall rays cast);
- ``publish``: the observation, then the overlay a watched worker publishes
  (:func:`emurl.games.mkds.overlay.race_overlay` and its JSON), reusing the observation's
  rays (``RaceFeatures.cast`` keeps the last cast);
- ``publish_recast``: the same, with the overlay casting its rays again (what it did before).

The kart moves a little each frame, so every observation casts afresh. Publishing runs at
most 30 times a second while watched (``emurl.vector.frames``), so its cost per second of a
worker is ``30 × (publish - observe)``.

Usage::

    .venv/bin/python benchmarks/bench_mkds_overlay.py [--walls 3000] [--frames 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from mkds_memory import STRUCTS, build_memory, fx, write_camera, write_kcl  # noqa: E402

from emurl.games.integration import load_integration  # noqa: E402
from emurl.games.mkds.features import RaceFeatures  # noqa: E402
from emurl.games.mkds.overlay import race_overlay  # noqa: E402

WALL = 8 << 8


def course(walls: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    tris = []
    for _ in range(walls):
        c = rng.uniform(-3000, 3000, 3)
        c[1] = 0.0
        tris.append((tuple(c), tuple(c + (10, 0, 0)), tuple(c + (0, 30, 0))))
    facts = {"checkpoint": ("status", 0x46, "<u2", 0, 0), "cpoi_count": ("map", 0x48, "<u4", 0, 0)}
    for k in ("position_x", "position_y", "position_z"):
        facts[k] = ("driver", 0x80 + 4 * "xyz".index(k[-1]), "<i4", fx(0.0), 0.0)
    ram = build_memory("AMCE", facts=facts)
    write_camera(ram, "AMCE", position=(0, 30, -100), target=(0, 30, 0), aspect=1.5)
    write_kcl(ram, tris, [WALL] * walls, "AMCE")
    return ram


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walls", type=int, default=3000)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    ram = course(args.walls)
    features = load_integration("MarioKartDS-NintendoDs").features()
    r = features.race
    # the overlay as it was: its own RaceFeatures (same rays), which never saw the observation's cast
    apart = RaceFeatures(r.n_rays, r.fov_degrees, r.max_range, r.ray_height, r.wall_types)

    def frame(i: int, publish: bool, recast: bool) -> None:
        x = 0.25 * (i % 64)  # the kart moves: every frame's observation casts afresh
        ram.write(STRUCTS["driver"] + 0x80, "<i4", fx(x))
        values = {"position_x": x, "position_y": 0.0, "position_z": 0.0, "checkpoint": 0}
        features.observe(values, 0, ram)
        if publish:
            json.dumps(race_overlay(apart, values, ram) if recast else features.overlay(values, ram))

    settings = {"observe": (False, False), "publish": (True, False), "publish_recast": (True, True)}
    times: dict[str, list[float]] = {k: [] for k in settings}
    frame(0, True, False), frame(0, True, True)  # read the course once for each
    for _ in range(args.rounds):
        for name, (publish, recast) in settings.items():
            start = time.perf_counter()
            for i in range(args.frames):
                frame(i, publish, recast)
            times[name].append((time.perf_counter() - start) / args.frames * 1e3)
    ms = {k: statistics.median(v) for k, v in times.items()}
    walls = len(features.overlay({"position_x": 0.0, "position_y": 0.0, "position_z": 0.0, "checkpoint": 0},
                                 ram)["walls"])
    print(f"{args.walls} walls on the course, {walls} published; median of {args.rounds} rounds, ms per frame:")
    for k, v in ms.items():
        print(f"  {k:15s} {v:.3f}")
    for k in ("publish", "publish_recast"):
        extra = ms[k] - ms["observe"]
        print(f"  {k}: overlay {extra:.3f} ms per publish, {30 * extra:.1f} ms per second at 30 publishes/s")
    print(f"  overlay cost reused ÷ recast: {(ms['publish'] - ms['observe']) / (ms['publish_recast'] - ms['observe']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
