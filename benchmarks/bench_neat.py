"""NEAT evaluation throughput: genomes/s and emulator frames/s with 1 and 2 worker processes,
and the share of a genome's evaluation spent outside the emulator.

The genomes are a fixed population (neat-python's generation 0 of the game's NEAT preset,
seeded), evaluated by the same persistent workers ``emurl neat`` uses
(:func:`emurl.train.neat.evaluate.make_pool`), each round repeated ``--rounds`` times; the
best round of each counts (the one least slowed by other work on a shared machine).
The share outside the emulator is measured in this process: the same genomes played with
the env's emulator wrapped in a timer of ``step`` and ``load_state`` (:meth:`EmulatorEnv.wrap_emulator`).

Usage::

    .venv/bin/python benchmarks/bench_neat.py                       # MiniKart, pop 60, 3 rounds
    .venv/bin/python benchmarks/bench_neat.py --ray                 # also a local Ray instance, 2 workers
    .venv/bin/python benchmarks/bench_neat.py --json out.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import tempfile
import time

import neat

from emurl.emulators import EmulatorWrapper
from emurl.train.neat.config import build_config, neat_config
from emurl.train.neat.evaluate import GenomePlayer, PoolEvaluator, io_sizes, make_pool


class EmulatorTimer(EmulatorWrapper):
    """Adds up the seconds spent in the emulator: ``step`` (the frames) and ``load_state``
    (each genome's episode starts by loading the start state: ~8 ms on DeSmuME)."""

    def __init__(self, inner):
        super().__init__(inner)
        self.seconds = 0.0
        self.load_seconds = 0.0

    def step(self, frames: int = 1) -> None:
        t = time.perf_counter()
        self.inner.step(frames)
        self.seconds += time.perf_counter() - t

    def load_state(self, state) -> None:
        t = time.perf_counter()
        self.inner.load_state(state)
        self.load_seconds += time.perf_counter() - t


def population(game: str, pop: int, seed: int, folder: str):
    cfg, parser = build_config(game, None, {"pop": pop, "seed": seed, "video": "false"})
    player = GenomePlayer(cfg, None)
    n_in, n_out, _ = io_sizes(player.env, cfg.outputs)
    player.config = neat_config(parser, n_in, n_out, os.path.join(folder, "neat.ini"))
    random.seed(seed)
    genomes = list(neat.Population(player.config).population.items())
    return cfg, player, genomes


def pool_rate(cfg, config, genomes, workers: int, rounds: int, ray: str | None = None) -> dict:
    cfg = dataclasses.replace(cfg, num_proc=workers, ray=ray)
    evaluator = PoolEvaluator(make_pool(cfg, config))
    try:
        evaluator.evaluate(genomes[:workers], config)  # workers up and warm
        best = None
        for _ in range(rounds):
            g0, f0 = evaluator.genomes, evaluator.frames
            t = time.perf_counter()
            evaluator.evaluate(genomes, config)
            dt = time.perf_counter() - t
            r = {"genomes_per_s": (evaluator.genomes - g0) / dt, "frames_per_s": (evaluator.frames - f0) / dt,
                 "seconds": dt}
            best = r if best is None or r["frames_per_s"] > best["frames_per_s"] else best
        return best
    finally:
        evaluator.close()


def outside_share(player: GenomePlayer, genomes) -> dict:
    timer = player.env.unwrapped.wrap_emulator(EmulatorTimer)
    t = time.perf_counter()
    frames = sum(player.play(g).frames for _, g in genomes)
    total = time.perf_counter() - t
    player.env.unwrapped.unwrap_emulator()
    inside = timer.seconds + timer.load_seconds
    return {"frames": frames, "seconds": total, "step_seconds": timer.seconds, "load_state_seconds": timer.load_seconds,
            "outside_share": 1.0 - inside / total, "frames_per_s": frames / total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--game", default="MiniKart-NintendoDs")
    ap.add_argument("--pop", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ray", action="store_true", help="also 2 workers on a local Ray instance")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg, player, genomes = population(args.game, args.pop, args.seed, tmp)
        try:
            out = {"game": args.game, "pop": args.pop, "load_avg_start": os.getloadavg(),
                   "in_process": outside_share(player, genomes)}
        finally:
            player.close()
        for w in (1, 2):
            out[f"workers_{w}"] = pool_rate(cfg, player.config, genomes, w, args.rounds)
        if args.ray:
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            try:
                out["ray_2"] = pool_rate(cfg, player.config, genomes, 2, args.rounds, ray="local")
            finally:
                ray.shutdown()
        out["speedup_2_over_1"] = out["workers_2"]["frames_per_s"] / out["workers_1"]["frames_per_s"]
        out["load_avg_end"] = os.getloadavg()
    print(json.dumps(out, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
