"""emurl neat: presets, the fitness wrapper, deterministic evaluation in worker processes
(and on Ray), checkpoints that resume to the same next generation, the verb and eval.

The real-emulator tests run MiniKart (our DS homebrew game, ``rom.nds`` ships with its
integration) from its feature observation.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import random
import signal

import gymnasium as gym
import neat
import numpy as np
import pytest

from emurl.cli import main
from emurl.errors import ConfigError, WorkerError
from emurl.train.neat.config import NEAT_PRESETS, build_config, neat_config, read_ini
from emurl.train.neat.evaluate import GenomeFitness, GenomePlayer, PoolEvaluator, make_pool
from emurl.train.neat.genomes import latest_checkpoint, restore
from emurl.train.neat.run import evaluate_neat_run, run
from emurl.vector.frames import FrameReader, frame_name

GAME = "MiniKart-NintendoDs"


def _small(tmp_path, **extra):
    overrides = {"pop": 4, "generations": 2, "num_proc": 1, "runs_dir": str(tmp_path), "video": "false",
                 "max_episode_steps": 80, **extra}
    return build_config(GAME, None, overrides)


@pytest.mark.parametrize("ini", sorted(p.name for p in NEAT_PRESETS.glob("*.ini")))
def test_presets_load(ini, tmp_path):
    parser = read_ini(NEAT_PRESETS / ini)
    config = neat_config(parser, 13, 3, tmp_path / "neat.ini")
    assert config.genome_config.num_inputs == 13 and config.genome_config.num_outputs == 3
    assert config.pop_size >= 2


def test_game_preset_and_overrides():
    cfg, parser = build_config(GAME, None, {"pop": 7, "DefaultGenome.node_add_prob": "0.25", "frame_skip": 8})
    assert (cfg.env.scenario, cfg.env.action_set, cfg.fitness) == ("scenario_1lap", "steer", "splits")
    assert cfg.env.frame_skip == 8 and cfg.env.obs_type == "features" and cfg.env.noop_max == 0
    assert parser.get("NEAT", "pop_size") == "7" and parser.get("DefaultGenome", "node_add_prob") == "0.25"
    with pytest.raises(ConfigError, match="did you mean"):
        build_config(GAME, None, {"generation": 3})
    with pytest.raises(ConfigError, match="no section"):
        build_config(GAME, None, {"Genome.x": 1})


class _Track(gym.Env):
    """Race progress from a list, one value per step; race time = 4 frames per step."""

    observation_space = gym.spaces.Box(0, 1, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)
    frame_skip = 4

    def __init__(self, progress):
        self.progress, self.t = progress, 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros(1, np.float32), {"race_progress": 0.0, "checkpoints": 4, "race_time": 0}

    def step(self, action):
        self.t += 1
        info = {"race_progress": self.progress[self.t - 1], "checkpoints": 4, "race_time": 4 * self.t}
        return np.zeros(1, np.float32), 0.0, self.t == len(self.progress), False, info


def test_split_fitness_and_stuck():
    # 4 checkpoints a lap: splits at 0.25, 0.5; the bonus is paid once per new split
    env = GenomeFitness(_Track([0.1, 0.25, 0.3, 0.2, 0.5, 0.5, 0.5, 0.5, 0.5]), "splits", stuck_steps=3,
                        time_bonus=1.0, cap_frames=40)
    env.reset()
    done = False
    steps = 0
    while not done:
        _, _, term, trunc, info = env.step(0)
        done, steps = term or trunc, steps + 1
    bonus = 0.25 * (1 - 8 / 40) + 0.25 * (1 - 20 / 40)  # split 1 at step 2, split 2 at step 5
    assert info["fitness"] == pytest.approx(0.5 + bonus)
    assert trunc and info["stuck"] and steps == 8  # no new split for 3 steps after step 5


def test_return_fitness_ends_without_a_new_best_return():
    env = GenomeFitness(_Track([0.0] * 20), "return", stuck_steps=4)
    env.reset()
    steps, done = 0, False
    while not done:
        _, _, term, trunc, info = env.step(0)
        done, steps = term or trunc, steps + 1
    assert (steps, info["fitness"], info["stuck"]) == (5, 0.0, True)  # step 1 sets the best (0.0), 4 more without


@pytest.fixture(scope="module")
def population_and_config(tmp_path_factory):
    cfg, parser = _small(tmp_path_factory.mktemp("cfg"))
    player = GenomePlayer(cfg, None)
    n_in, n_out = player.env.observation_space.shape[0], player.env.action_space.n
    player.config = neat_config(parser, n_in, n_out, tmp_path_factory.mktemp("ini") / "neat.ini")
    random.seed(1)
    pop = neat.Population(player.config)
    genomes = list(pop.population.values())[:4]
    here = [player.play(g).fitness for g in genomes]
    player.close()
    return cfg, player.config, genomes, here


def test_fitness_same_in_worker_processes(population_and_config):
    cfg, config, genomes, here = population_and_config
    assert len(set(here)) > 1  # different genomes drive differently (else the test could not fail)
    pool = make_pool(cfg.__class__(**{**cfg.__dict__, "num_proc": 2}), config)
    evaluator = PoolEvaluator(pool)  # it owns the pool (neat's ParallelEvaluator closes it when deleted)
    try:
        evaluator.evaluate([(g.key, g) for g in genomes], config)
        assert [g.fitness for g in genomes] == here
        evaluator.evaluate([(g.key, g) for g in reversed(genomes)], config)  # the same workers again, other order
        assert [g.fitness for g in genomes] == here
        os.kill(next(iter(pool._processes)), signal.SIGKILL)  # an emulator crash: an error, not a wait forever
        with pytest.raises(WorkerError, match="NEAT worker process died"):
            evaluator.evaluate([(g.key, g) for g in genomes], config)
    finally:
        evaluator.close(now=True)


@pytest.mark.slow
def test_fitness_same_on_ray(population_and_config):
    ray = pytest.importorskip("ray")
    cfg, config, genomes, here = population_and_config
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        evaluator = PoolEvaluator(make_pool(cfg.__class__(**{**cfg.__dict__, "num_proc": 2, "ray": "local"}), config))
        evaluator.evaluate([(g.key, g) for g in genomes], config)
        assert [g.fitness for g in genomes] == here
        evaluator.close()
    finally:
        ray.shutdown()


def test_watched_player_publishes_its_screen(population_and_config):
    cfg, config, genomes, here = population_and_config
    name = frame_name(f"test-neat-{os.getpid()}", 0)
    player = GenomePlayer(cfg, config, publish=name)
    try:
        with FrameReader(name) as reader:
            reader.watch()
            assert player.play(genomes[0]).fitness == here[0]  # publishing changes nothing
            frame, overlay, _ = reader.read()
            np.testing.assert_array_equal(frame, player.env.render())
            assert overlay["genome"] == genomes[0].key and overlay["step"] > 0
    finally:
        player.close()


def _state(path):
    with gzip.open(path) as f:
        generation, _, population, _, rnd = pickle.load(f)
    genes = {k: sorted((c.key, round(c.weight, 12), c.enabled) for c in g.connections.values())
             for k, g in population.items()}
    return generation, genes, rnd


def test_resume_reaches_the_same_next_generation(tmp_path):
    cfg, parser = _small(tmp_path / "a")
    straight = run(cfg, parser, progress=False)
    cfg, parser = _small(tmp_path / "b", generations=1)
    stopped = run(cfg, parser, progress=False)
    assert latest_checkpoint(stopped / "checkpoints").name == "neat-checkpoint-1"
    run(resume=stopped, overrides={"generations": 2}, progress=False)
    a, b = _state(straight / "checkpoints" / "neat-checkpoint-2"), _state(stopped / "checkpoints" / "neat-checkpoint-2")
    assert a[0] == b[0] == 2 and a[1] == b[1] and a[2] == b[2]
    assert restore(stopped / "checkpoints" / "neat-checkpoint-2").generation == 2
    rows = [json.loads(line) for line in (stopped / "generations.jsonl").read_text().splitlines()]
    assert [r["generation"] for r in rows] == [0, 1]


def test_cli_smoke_and_eval(tmp_path, capsys):
    assert main(["neat", "--game", GAME, "--pop", "4", "--generations", "1", "--num-proc", "1", "--runs-dir",
                 str(tmp_path), "--no-progress", "--set", "max_episode_steps=80"]) == 0
    (run_dir,) = tmp_path.iterdir()
    for name in ("neat.ini", "config.yaml", "best/best.pkl", "best/gen_0.png", "checkpoints/neat-checkpoint-1",
                 "videos/best_gen_0.mp4", "movies/best_gen_0.emv"):
        assert (run_dir / name).is_file(), name
    assert any((run_dir / "tb").iterdir())
    res = evaluate_neat_run(run_dir, episodes=2, video=True)
    row = json.loads((run_dir / "generations.jsonl").read_text().splitlines()[0])
    assert res["fitness"] == [row["best_fitness"]] * 2  # the best genome plays as it did in its worker
    assert (run_dir / "videos" / "eval_final.mp4").is_file() and (run_dir / "eval.json").is_file()
