"""NEAT on MiniKart: plot a run's curve from its ``generations.jsonl`` and say when its best
genome first finished the race.

The run itself is the CLI (the game's preset: ``src/emurl/configs/neat/MiniKart-NintendoDs.ini``)::

    emurl neat --game MiniKart-NintendoDs --generations 25 --seed 0                 # 1 lap of track 0
    emurl neat --game MiniKart-NintendoDs --generations 60 --seed 0 \\
        --set scenario=scenario --set max_episode_steps=700                         # 3 laps
    .venv/bin/python benchmarks/neat_minikart.py runs/MiniKart-NintendoDs__neat__0__<time> docs/neat_minikart.png

Prints, per generation where the best genome improved: its fitness, whether it finished
(the scenario's success: the race's laps done), its race time (frames, 59.83 a second)
and the wall time since the run started.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FPS = 59.8261  # the DS's frame rate (MiniKart's MEMORY.md)


def main(run_dir: str, png: str | None = None) -> None:
    rows = [json.loads(line) for line in (Path(run_dir) / "generations.jsonl").read_text().splitlines()]
    first = None
    for r in rows:
        if "best_success" in r:
            t = r.get("best_race_time")
            print(f"generation {r['generation']:3d}: best fitness {r['best_fitness']:.4f}, finished {r['best_success']}, "
                  f"race time {t} frames ({t / FPS:.2f} s), wall {r['elapsed']:.0f} s" if t is not None else
                  f"generation {r['generation']:3d}: best fitness {r['best_fitness']:.4f}, wall {r['elapsed']:.0f} s")
            if r["best_success"] and first is None:
                first = r
    total_frames = sum(r["frames"] for r in rows)
    print(f"{len(rows)} generations, {sum(r['genomes'] for r in rows)} genomes, {total_frames} frames, "
          f"wall {rows[-1]['elapsed']:.0f} s")
    if first:
        print(f"first finish: generation {first['generation']}, wall {first['elapsed']:.0f} s")
    if png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
        gens = [r["generation"] for r in rows]
        ax[0].plot(gens, [r["best_fitness"] for r in rows], label="best")
        ax[0].plot(gens, [r["mean_fitness"] for r in rows], label="mean")
        ax[0].set_xlabel("generation")
        ax[0].set_ylabel("fitness (laps + time bonus)")
        ax[0].legend()
        ax[0].set_title(Path(run_dir).name, fontsize=8)
        times = [(r["generation"], r["best_race_time"] / FPS) for r in rows
                 if r.get("best_success") and r.get("best_race_time")]
        if times:
            ax[1].plot(*zip(*times), "o-")
        ax[1].set_xlabel("generation")
        ax[1].set_ylabel("best genome's race time (s)")
        ax[1].set_title("new best genomes that finished", fontsize=8)
        fig.tight_layout()
        fig.savefig(png, dpi=90)
        print(f"wrote {png}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
