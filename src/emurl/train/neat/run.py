"""NEAT runs: neat-python's population evolved on emulators, in a run folder.

A run folder ``runs/<game>__neat__<seed>__<time>/`` holds:

- ``config.yaml`` and ``neat.ini``: the frozen settings (:mod:`emurl.train.neat.config`);
  a run resumes and evaluates from its folder alone;
- ``checkpoints/neat-checkpoint-<N>``: neat-python checkpoints (N = the next generation),
  one per generation, written atomically;
- ``tb/``: TensorBoard curves: ``fitness/best``, ``fitness/mean``, ``species/count``,
  ``genome/nodes`` and ``genome/connections`` (the best genome's), ``genome/mean_size``,
  ``speed/genomes_per_s``, ``speed/frames_per_s``;
- ``best/gen_<G>.pkl`` and ``.png``: the best genome of each generation and its network;
  ``best/best.pkl``: the best so far (``emurl eval`` plays it);
- ``videos/best_gen_<G>.mp4`` and ``movies/best_gen_<G>.emv``: each new best genome's
  episode, as video and as an input movie that replays it exactly;
- ``generations.jsonl``: one line per generation.

Read top to bottom, :func:`run` is: settings (new, or the folder's) → one env here (the
genome's inputs and outputs; later the recorder of best genomes) → the run folder →
the population (new or the latest checkpoint) → the worker pool → ``Population.run``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

import neat
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from emurl.fileio import atomic_write, new_run_folder
from emurl.movies.replay import replay, write_video
from emurl.train.callbacks import StopOnSignal
from emurl.train.config import write_yaml_atomic
from emurl.train.neat.config import NeatConfig, load_neat_config, load_run_settings, neat_config, override
from emurl.train.neat.evaluate import GenomePlayer, PoolEvaluator, io_sizes, make_pool
from emurl.train.neat.genomes import AtomicCheckpointer, draw_network, latest_checkpoint, load_genome, restore, save_genome


class RunReporter(neat.reporting.BaseReporter):
    """Writes a generation's curves, best genome, picture, video and movie (module doc)."""

    def __init__(self, run_dir: Path, cfg: NeatConfig, player: GenomePlayer, evaluator: PoolEvaluator, bar):
        self.run_dir, self.cfg, self.player, self.evaluator, self.bar = run_dir, cfg, player, evaluator, bar
        self.tb = SummaryWriter(str(run_dir / "tb"))
        best = run_dir / "best" / "best.pkl"
        self.best_fitness = load_genome(best).fitness if best.is_file() else None
        base = player.env.unwrapped
        n = getattr(player.env.action_space, "n", None)
        self.output_names = (["+".join(base.action_meaning(i)) or "none" for i in range(int(n))]
                             if n is not None and player.outputs == "argmax" else None)
        # the features' element names where the integration's features class has them (MiniKart: ray_0.., speed)
        names = getattr(getattr(getattr(base, "_observer", None), "features", None), "names", None)
        n_in = pop_inputs(player)
        self.input_names = list(names) if names is not None and len(names) == n_in else None
        self.generation = 0
        self.started = self.t0 = time.perf_counter()
        self.mark = (0, 0, 0.0)

    def start_generation(self, generation):
        self.generation = generation
        self.t0 = time.perf_counter()
        self.mark = (self.evaluator.genomes, self.evaluator.frames, self.evaluator.seconds)

    def post_evaluate(self, config, population, species, best_genome):
        g, ev = self.generation, self.evaluator
        fits = [x.fitness for x in population.values()]
        wall = time.perf_counter() - self.t0
        nodes, conns = best_genome.size()
        row = {"generation": g, "best_fitness": best_genome.fitness, "mean_fitness": statistics.fmean(fits),
               "species": len(species.species), "best_nodes": nodes, "best_connections": conns,
               "mean_size": statistics.fmean(sum(x.size()) for x in population.values()),
               "genomes": ev.genomes - self.mark[0], "frames": ev.frames - self.mark[1], "seconds": round(wall, 3),
               "worker_seconds": round(ev.seconds - self.mark[2], 3),
               "elapsed": round(time.perf_counter() - self.started, 1),  # since this process started the run
               "best_key": best_genome.key}
        for tag, key in (("fitness/best", "best_fitness"), ("fitness/mean", "mean_fitness"), ("species/count", "species"),
                         ("genome/nodes", "best_nodes"), ("genome/connections", "best_connections"),
                         ("genome/mean_size", "mean_size")):
            self.tb.add_scalar(tag, row[key], g)
        self.tb.add_scalar("speed/genomes_per_s", row["genomes"] / max(wall, 1e-9), g)
        self.tb.add_scalar("speed/frames_per_s", row["frames"] / max(wall, 1e-9), g)
        self.tb.flush()
        folder = self.run_dir / "best"
        save_genome(best_genome, folder / f"gen_{g}.pkl")
        draw_network(best_genome, config, folder / f"gen_{g}.png", input_names=self.input_names,
                     output_names=self.output_names, title=f"generation {g}: genome {best_genome.key}, "
                     f"fitness {best_genome.fitness:.3f}")
        if self.best_fitness is None or best_genome.fitness > self.best_fitness:
            self.best_fitness = best_genome.fitness
            save_genome(best_genome, folder / "best.pkl")
            if self.cfg.video:
                ep = record_genome(self.player, best_genome, self.run_dir / "movies" / f"best_gen_{g}.emv",
                                   self.run_dir / "videos" / f"best_gen_{g}.mp4")
                row.update(best_success=ep.success, best_frames=ep.frames, best_race_time=ep.race_time)
        with open(self.run_dir / "generations.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        if self.bar is not None:
            self.bar.set_postfix(gen=g, best=f"{best_genome.fitness:.3f}", species=row["species"])

    def close(self) -> None:
        self.tb.close()


def pop_inputs(player: GenomePlayer) -> int:
    """The genome's number of inputs (the flattened observation's size)."""
    return io_sizes(player.env, player.cfg.outputs)[0]


class _Stopped(Exception):
    """A signal asked the run to stop; the generation's checkpoint is written."""


class _StopAfterGeneration(neat.reporting.BaseReporter):
    """Ends ``Population.run`` after a generation's checkpoint when a signal asked (added last)."""

    def __init__(self, stop: StopOnSignal):
        self.stop = stop

    def end_generation(self, config, population, species_set):
        if self.stop.requested:
            raise _Stopped


def record_genome(player: GenomePlayer, genome, movie_path: Path, video_path: Path | None):
    """Play ``genome`` once, write its input movie (``.emv``) and, from that movie
    replayed on the same emulator, its video; returns the :class:`Episode`."""
    movie, ep = player.record(genome)
    movie.metadata.update(genome=int(genome.key), fitness=float(ep.fitness))
    movie_path.parent.mkdir(parents=True, exist_ok=True)
    movie.save(movie_path)
    if video_path is not None:
        video_path.parent.mkdir(parents=True, exist_ok=True)
        emu = player.env.unwrapped.emulator
        write_video((s for _, s in replay(movie, emu)), video_path, movie.frame_rate)
    return ep


def run(cfg: NeatConfig | None = None, parser=None, resume: str | Path | None = None, overrides: dict | None = None,
        progress: bool = True) -> Path:
    """Evolve a population; returns the run folder.

    Args:
        cfg, parser: a new run's settings and its ``neat.ini``
            (:func:`emurl.train.neat.config.build_config`); ignored when resuming.
        resume: a run folder: its settings, and its latest checkpoint continues up to
            ``generations`` (``overrides`` may raise it; neat-python's own settings are
            the checkpoint's).
        progress: a tqdm bar over the genomes to evaluate.

    Raises:
        ConfigError: bad settings; FileNotFoundError: a folder that is no NEAT run or has
        no checkpoint; the env's errors (UnknownGameError, RomNotFoundError, ...).
    """
    if resume:
        run_dir = Path(resume)
        cfg = load_run_settings(run_dir)
        if overrides:
            cfg, _ = override(cfg, None, {k: v for k, v in overrides.items() if "." not in k and k != "pop"})
        ckpt = latest_checkpoint(run_dir / "checkpoints")
        if ckpt is None:
            raise FileNotFoundError(f"{run_dir}: no checkpoints/neat-checkpoint-* to resume from")
        player = GenomePlayer(cfg, load_neat_config(run_dir / "neat.ini"))
        pop = restore(ckpt)
        player.config = pop.config
    else:
        assert cfg is not None and parser is not None
        player = GenomePlayer(cfg, None)  # in this process: a bad game, ROM or state shows as itself
        try:
            n_in, n_out, _ = io_sizes(player.env, cfg.outputs)
            run_dir = new_run_folder(cfg.runs_dir, cfg.run_name(time.time()))  # unique within a second
            config = neat_config(parser, n_in, n_out, run_dir / "neat.ini")
        except BaseException:
            player.close()
            raise
        player.config = config
        random.seed(cfg.seed)  # neat-python draws from the random module
        pop = neat.Population(config)
    write_yaml_atomic(run_dir / "config.yaml", cfg.to_dict())
    remaining = cfg.generations - pop.generation
    bar = tqdm(total=max(remaining, 0) * pop.config.pop_size, unit="genome", desc=f"NEAT {cfg.game}",
               disable=not progress, dynamic_ncols=True)
    evaluator = reporter = None
    finished = False
    try:
        if remaining > 0:
            evaluator = PoolEvaluator(make_pool(cfg, pop.config, job=run_dir.name), bar)
            reporter = RunReporter(run_dir, cfg, player, evaluator, bar)
            pop.add_reporter(reporter)
            pop.add_reporter(AtomicCheckpointer(run_dir / "checkpoints"))
            with StopOnSignal() as stop:  # SIGINT / SIGTERM: stop after this generation's checkpoint
                pop.add_reporter(_StopAfterGeneration(stop))
                pop.run(evaluator.evaluate, remaining)
        finished = True
    except (KeyboardInterrupt, _Stopped):
        print(f"stopped; latest checkpoint {latest_checkpoint(run_dir / 'checkpoints')}; continue with: "
              f"emurl neat --resume {run_dir}", file=sys.stderr, flush=True)
    finally:
        bar.close()
        if reporter is not None:
            reporter.close()
        if evaluator is not None:  # stopped or failed: end the workers now, not after their genomes
            evaluator.close(now=not finished)
        player.close()
    return run_dir


def evaluate_neat_run(run_dir: str | Path, episodes: int = 1, video: bool = False) -> dict:
    """Play a NEAT run's best genome (``best/best.pkl``) for ``episodes`` episodes; writes
    ``eval.json`` (and with ``video`` ``videos/eval_final.mp4`` and ``movies/eval_final.emv``).

    Returns:
        ``emurl eval``'s result keys: ``mean_return``, ``std_return``, ``mean_length``,
        ``std_length``, ``episodes``, ``returns``, ``lengths``, ``successes``, plus
        ``fitness`` (one per episode: the same each time, evaluation is deterministic).

    Raises:
        FileNotFoundError: not a NEAT run folder, or no best genome yet.
    """
    run_dir = Path(run_dir)
    cfg = load_run_settings(run_dir)
    best = run_dir / "best" / "best.pkl"
    if not best.is_file():
        raise FileNotFoundError(f"{best}: the run has no best genome yet (it saves one after each generation)")
    genome = load_genome(best)
    player = GenomePlayer(cfg, load_neat_config(run_dir / "neat.ini"))
    try:
        eps = [player.play(genome) for _ in range(max(1, episodes))]
        if video:
            record_genome(player, genome, run_dir / "movies" / "eval_final.emv", run_dir / "videos" / "eval_final.mp4")
    finally:
        player.close()
    rets, lens = [e.ret for e in eps], [e.steps for e in eps]
    res = {"mean_return": statistics.fmean(rets), "std_return": statistics.pstdev(rets),
           "mean_length": statistics.fmean(lens), "std_length": statistics.pstdev(lens), "episodes": len(eps),
           "returns": rets, "lengths": lens, "successes": [e.success for e in eps], "fitness": [e.fitness for e in eps],
           "genome": int(genome.key)}
    atomic_write(run_dir / "eval.json", json.dumps(res, indent=1).encode())
    return res


__all__ = ["RunReporter", "evaluate_neat_run", "record_genome", "run"]
