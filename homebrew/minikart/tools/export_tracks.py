#!/usr/bin/env python3
"""Export MiniKart's track geometry as data for emurl: walls and checkpoints (stdlib only).

usage: export_tracks.py [OUT.json]   (default: the integration's tracks.json)

The geometry is the one `gen_tracks.py` compiles into the ROM: the same centre-line
samples, checkpoints and radii. The wall map is rasterised as `main.c: raster_row` does it
(a pixel is wall unless it lies within GRASS_R of a centre-line sample: the union of the
discs the game stamps; off the 256x192 screen is wall too), and written per row as spans
of free pixels (road or grass). Constants the ROM keeps in `main.c` (kart box, checkpoint
half-length, top speed) are read from it, so a change there comes through on the next run.
Run it after changing the tracks, then rebuild the ROM (`build.sh`); the test
`tests/games/test_minikart_features.py` checks the file against the game's own map in RAM.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_tracks  # noqa: E402

OUT_DEFAULT = os.path.join(HERE, "..", "..", "..", "src", "emurl", "games", "data", "MiniKart-NintendoDs", "tracks.json")
WIDTH, HEIGHT = 256, 192


def main_c_defines():
    """The numeric #defines of arm9/main.c (KART_HALF, MAX_SPEED, ...)."""
    text = open(os.path.join(HERE, "..", "arm9", "main.c")).read()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^#define\s+(\w+)\s+(\d+)\b", text, re.M)}


def free_spans(samples, radius):
    """Per row y, the inclusive [x0, x1] spans of pixels within ``radius`` of some sample."""
    rows = []
    for y in range(HEIGHT):
        free = [False] * WIDTH
        for sx, sy in samples:
            dy = abs(y - sy)
            if dy > radius:
                continue
            hw = gen_tracks.math.isqrt(radius * radius - dy * dy)  # main.c's hw_grass table
            for x in range(max(0, sx - hw), min(WIDTH - 1, sx + hw) + 1):
                free[x] = True
        spans, x = [], 0
        while x < WIDTH:
            if free[x]:
                x0 = x
                while x + 1 < WIDTH and free[x + 1]:
                    x += 1
                spans.append([x0, x])
            x += 1
        rows.append(spans)
    return rows


def export():
    d = main_c_defines()
    fx = gen_tracks.FX
    tracks = []
    for track in gen_tracks.TRACKS:
        g = gen_tracks.build(track)
        sx, sy, sa = g["start"]
        tracks.append({
            "name": track["name"],
            "centre_line_px": round(g["length"], 3),
            "checkpoints": [[c[0] / fx, c[1] / fx, c[2] / fx, c[3] / fx] for c in g["cps"]],
            "start": [sx / fx, sy / fx, sa],
            "free_rows": free_spans(g["samples"], gen_tracks.GRASS_R),
        })
    return {
        "doc": ("MiniKart's tracks as the ROM has them (written by homebrew/minikart/tools/export_tracks.py "
                "from gen_tracks.py and main.c: do not edit). Units: top-screen pixels, x right, y down. "
                "checkpoints: [x, y, dx, dy] per checkpoint line: its centre and the unit driving direction "
                "across it; the line runs perpendicular to (dx, dy) for checkpoint_half_length px each side. "
                "free_rows[y]: inclusive [x0, x1] spans of road or grass on row y; every other pixel, and "
                "everything off the screen, is wall. A kart is blocked where a corner of its box "
                "(centre pixel +-kart_half) is wall. MEMORY.md beside this file describes the game."),
        "width": WIDTH,
        "height": HEIGHT,
        "road_radius": gen_tracks.ROAD_R,
        "grass_radius": gen_tracks.GRASS_R,
        "kart_half": d["KART_HALF"],
        "checkpoint_half_length": gen_tracks.GRASS_R + 2,  # main.c: CP_HALF_LEN (GRASS_R + 2)
        "max_speed": d["MAX_SPEED"] / fx,
        "tracks": tracks,
    }


def dumps(data):
    """JSON with one key per line and one row of spans per line: readable and diffable."""
    def j(v):
        return json.dumps(v, separators=(",", ":"))
    lines = ["{"]
    for key, value in data.items():
        if key != "tracks":
            lines.append(f"  {j(key)}: {j(value)},")
    lines.append('  "tracks": [')
    for i, track in enumerate(data["tracks"]):
        lines.append("    {")
        for key, value in track.items():
            if key != "free_rows":
                lines.append(f"      {j(key)}: {j(value)},")
        lines.append('      "free_rows": [')
        rows = track["free_rows"]
        lines += [f"        {j(r)}{',' if y + 1 < len(rows) else ''}" for y, r in enumerate(rows)]
        lines.append("      ]")
        lines.append("    }" + ("," if i + 1 < len(data["tracks"]) else ""))
    lines += ["  ]", "}", ""]
    return "\n".join(lines)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else OUT_DEFAULT
    data = export()
    with open(out + ".tmp", "w") as f:
        f.write(dumps(data))
    os.replace(out + ".tmp", out)  # a reader never sees half a file
    print(f"wrote {os.path.normpath(out)}: {len(data['tracks'])} tracks")


if __name__ == "__main__":
    main()
