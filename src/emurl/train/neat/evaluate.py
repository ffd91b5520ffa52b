"""Genome evaluation on emulators: fitness, the genome as a policy, and persistent workers.

Each worker process (or Ray worker) builds one env when it starts (:func:`init_worker`,
the pool's initializer) and plays every genome it is given on it (:func:`eval_genome`):
no process per genome, one emulator per process (stable-retro and py-desmume allow no
more). An episode starts from the env's fixed start state (``noop_max=0``), the network
is deterministic, so a genome's fitness is the same in every process, locally or on Ray.

Fitness (:class:`GenomeFitness`, a Gymnasium wrapper that also ends stuck episodes):

- ``"return"``: the scenario's return (sum of rewards);
- ``"splits"`` (racing games, whose step info has ``race_progress`` in laps, e.g.
  MiniKart's ``race_status_t`` +0x08, ``games/data/MiniKart-NintendoDs/MEMORY.md``):
  the best race progress reached, plus at each checkpoint split reached for the first
  time a bonus ``time_bonus * Δprogress * (1 - race_time / cap)``: reaching the same
  checkpoint earlier scores more. In laps (1.0 = a lap at no time bonus).
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple

import gymnasium as gym
import neat
import numpy as np

from emurl.envs import build_env
from emurl.errors import ConfigError, WorkerError
from emurl.imitation.movie_env import rollout_movie
from emurl.train.neat.config import NeatConfig
from emurl.vector import process_pool, setup_worker_process, stop_pool  # the one worker-process set-up
from emurl.vector.frames import PublishFrames, frame_name


class GenomeFitness(gym.Wrapper):
    """Adds ``info["fitness"]`` (see the module doc) and ends an episode (``truncated``)
    after ``stuck_steps`` agent steps without progress: no new checkpoint split
    (``"splits"``), or no new best return (``"return"``).

    Args:
        env: the env (its step info must hold ``race_progress`` for ``"splits"``).
        kind: ``"return"`` or ``"splits"``.
        stuck_steps: agent steps without progress that end the episode.
        time_bonus: ``"splits"``: weight of the time bonus.
        cap_frames: ``"splits"``: the episode cap in frames (race time is in frames);
            None: no time bonus.
    """

    def __init__(self, env: gym.Env, kind: str, stuck_steps: int, time_bonus: float = 0.5,
                 cap_frames: int | None = None):
        super().__init__(env)
        self.kind, self.stuck_steps, self.time_bonus, self.cap_frames = kind, stuck_steps, time_bonus, cap_frames
        self.fitness = 0.0

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.ret = 0.0
        self.best = -math.inf  # best return, or best split index
        self.stale = 0
        self.frames = 0
        self.best_progress = float(info.get("race_progress", 0.0))
        self.split_progress = self.best_progress  # race progress when the last new split was reached
        self.bonus = 0.0
        self.split = self._split(info) if self.kind == "splits" else 0
        self.fitness = self._value()
        info["fitness"] = self.fitness
        self.info = info
        return obs, info

    def _split(self, info: dict) -> int:
        count = int(info.get("checkpoints") or 0)
        p = float(info["race_progress"])
        if count:  # MiniKart, MKDS: progress = lap + (checkpoint + f) / count
            return math.floor(p * count + 1e-6)
        return int(info.get("lap", 0)) * 1000 + int(info.get("checkpoint", 0))

    def _value(self) -> float:
        return self.ret if self.kind == "return" else self.best_progress + self.bonus

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.ret += float(reward)
        self.frames += self.env.unwrapped.frame_skip  # agent steps × frame skip (the last step may end early)
        if self.kind == "splits":
            p = float(info["race_progress"])
            split = self._split(info)
            progressed = split > self.split
            if progressed:
                gain = max(0.0, p - self.split_progress)
                self.split_progress = max(self.split_progress, p)
                if self.cap_frames:
                    self.bonus += self.time_bonus * gain * max(0.0, 1.0 - int(info.get("race_time", 0)) / self.cap_frames)
                self.split = split
            self.best_progress = max(self.best_progress, p)
        else:
            progressed = self.ret > self.best
            self.best = max(self.best, self.ret)
        self.stale = 0 if progressed else self.stale + 1
        if self.stale >= self.stuck_steps and not terminated:
            truncated = True
            info["stuck"] = True
        self.fitness = self._value()
        info["fitness"] = self.fitness
        self.info = info
        return obs, reward, terminated, truncated, info


class GenomePolicy:
    """A genome as a policy: ``policy(observation, info) -> action``.

    The observation is flattened (``gymnasium.spaces.flatten``: a Box raveled, a Dict's
    arrays concatenated in key order) into the network's inputs; the outputs pick the
    action: ``"argmax"`` (Discrete: the action of the largest output) or
    ``"threshold"`` (MultiBinary: each button held when its output is above ``threshold``).
    """

    def __init__(self, genome, config: neat.Config, observation_space: gym.Space, outputs: str, threshold: float = 0.0):
        net_type = neat.nn.FeedForwardNetwork if config.genome_config.feed_forward else neat.nn.RecurrentNetwork
        self.net = net_type.create(genome, config)
        self.space = observation_space
        self.argmax = outputs == "argmax"
        self.threshold = threshold

    def __call__(self, observation, info=None):
        x = gym.spaces.flatten(self.space, observation)
        out = self.net.activate(x.tolist())
        if self.argmax:
            return int(np.argmax(out))
        return (np.asarray(out) > self.threshold).astype(np.int8)


def io_sizes(env: gym.Env, outputs: str) -> tuple[int, int, str]:
    """``(num_inputs, num_outputs, outputs)`` of the genomes that play ``env`` (``outputs``
    resolved from ``"auto"``).

    Raises:
        ConfigError: an action space neither ``Discrete`` (argmax) nor ``MultiBinary`` (threshold).
    """
    n_in = gym.spaces.flatdim(env.observation_space)
    space = env.action_space
    if isinstance(space, gym.spaces.Discrete) and outputs in ("auto", "argmax"):
        return n_in, int(space.n), "argmax"
    if isinstance(space, gym.spaces.MultiBinary) and outputs in ("auto", "threshold"):
        return n_in, int(np.prod(space.shape)), "threshold"
    raise ConfigError(f"outputs={outputs!r} can't drive the action space {space}: argmax needs a Discrete action set "
                      "(e.g. action_set=discrete or one of the integration's), threshold a MultiBinary one "
                      "(action_set=filtered or all)")


def fitness_kind(cfg: NeatConfig, info: dict) -> str:
    """``cfg.fitness`` resolved from ``"auto"``: ``"splits"`` when the step info has ``race_progress``."""
    if cfg.fitness != "auto":
        return cfg.fitness
    return "splits" if "race_progress" in info else "return"


class Episode(NamedTuple):
    """One genome's episode: its fitness, the scenario's return, agent steps, emulator
    frames, whether the scenario counted it a success, whether it ended stuck, and the
    step info's ``race_time`` at the end (frames; None where the game has none)."""

    fitness: float
    ret: float
    steps: int
    frames: int
    success: bool
    stuck: bool
    race_time: int | None = None


class GenomePlayer:
    """Plays genomes on one env (built from ``cfg.env``), which it keeps.

    Args:
        cfg: the run's settings.
        config: neat-python's config (genome inputs and outputs set).
        publish: a frame block name (:func:`emurl.vector.frames.frame_name`): the env
            publishes its screen and an overlay (``genome``, ``fitness``) while watched.
    """

    def __init__(self, cfg: NeatConfig, config: neat.Config, publish: str | None = None):
        self.cfg, self.config = cfg, config
        self.genome_key = None
        spec = cfg.env.replace(render_mode="rgb_array") if publish else cfg.env
        env = build_env(spec)
        try:
            self.publisher = None
            if publish:
                env = self.publisher = PublishFrames(env, publish, overlay=self._overlay)
            _, info = env.reset()
            self.kind = fitness_kind(cfg, info)
            _, _, self.outputs = io_sizes(env, cfg.outputs)
        except BaseException:
            env.close()
            raise
        self.env = GenomeFitness(env, self.kind, cfg.stuck_steps, cfg.time_bonus, cfg.episode_frames)

    def _overlay(self, env, observation, info) -> dict:
        fitness = getattr(getattr(self, "env", None), "fitness", None)  # GenomeFitness is outside: last step's
        return {"genome": self.genome_key, "fitness": fitness}

    def policy(self, genome) -> GenomePolicy:
        self.genome_key = int(genome.key)
        return GenomePolicy(genome, self.config, self.env.observation_space, self.outputs, self.cfg.threshold)

    def play(self, genome) -> Episode:
        """One episode of ``genome`` from the start state."""
        policy = self.policy(genome)
        obs, info = self.env.reset(seed=0)
        steps = 0
        ret = 0.0
        while True:
            obs, reward, terminated, truncated, info = self.env.step(policy(obs, info))
            ret += float(reward)
            steps += 1
            if terminated or truncated:
                break
        if self.publisher is not None:  # the genome's last frame, also when stuck detection ended it
            self.publisher.flush()
        return Episode(float(self.env.fitness), ret, steps, self.env.frames, bool(info.get("success", False)),
                       bool(info.get("stuck", False)), info.get("race_time"))

    def record(self, genome):
        """One episode of ``genome`` as an input movie: ``(movie, episode)``
        (:func:`emurl.imitation.movie_env.rollout_movie`; the movie replays it exactly)."""
        policy = self.policy(genome)
        cap = self.cfg.env.max_episode_steps or 100_000
        movie, ret = rollout_movie(self.env, policy, cap, seed=0)
        e = self.env
        return movie, Episode(float(e.fitness), ret, (movie.frames - 1) // e.unwrapped.frame_skip, e.frames,
                              bool(e.info.get("success", False)), bool(e.info.get("stuck", False)), e.info.get("race_time"))

    def close(self) -> None:
        self.env.close()


_player: GenomePlayer | None = None  # this worker process's player (one emulator per process)


def init_worker(cfg: NeatConfig, config: neat.Config, job: str = "neat") -> None:
    """Pool initializer: set up this worker process and build its env (once); with
    ``cfg.watch`` it publishes frames as ``frame_name(job, <process id>)``."""
    global _player
    setup_worker_process(ignore_interrupt=cfg.ray is None)
    _player = GenomePlayer(cfg, config, frame_name(job, os.getpid()) if cfg.watch else None)


def eval_genome(genome) -> tuple[float, int, float]:
    """Play ``genome`` on this worker's env: ``(fitness, emulator frames, seconds)``."""
    t = time.perf_counter()
    ep = _player.play(genome)
    return ep.fitness, ep.frames, time.perf_counter() - t


def make_pool(cfg: NeatConfig, config: neat.Config, job: str = "neat"):
    """``cfg.num_proc`` persistent workers (:func:`init_worker`): local processes started
    the emurl way (:func:`emurl.emulators.process.mp_context`), or with ``cfg.ray`` Ray
    workers (``ray.util.multiprocessing.Pool``, each an actor process holding one emulator;
    ``"local"`` starts a Ray instance here, anything else is ``ray.init``'s address)."""
    if cfg.ray is None:
        # forkserver preloads this module (and with it torch, through Stable-Baselines3): each worker then
        # starts in a fraction of a second instead of importing it again (~1.5 s of CPU each)
        return process_pool(cfg.num_proc, init_worker, (cfg, config, job), preload=[__name__])
    import ray  # lazy: 1-2 s, only for --ray
    from ray.util.multiprocessing import Pool as RayPool

    if not ray.is_initialized():
        if cfg.ray == "local":
            ray.init(num_cpus=cfg.num_proc, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=cfg.ray, log_to_driver=False)
    return RayPool(cfg.num_proc, initializer=init_worker, initargs=(cfg, config, job))


class PoolEvaluator(neat.ParallelEvaluator):
    """neat-python's :class:`~neat.ParallelEvaluator` on a pool of persistent workers
    (:func:`make_pool`) instead of its own fork-started ``multiprocessing.Pool``.

    ``evaluate(genomes, config)`` (the fitness function ``Population.run`` calls) sets
    each genome's fitness; ``bar`` (a tqdm bar) advances one per genome. ``frames`` and
    ``seconds`` (worker time) add up over the run.

    Raises (from ``evaluate``):
        WorkerError: a local worker process died (an emulator crash): the generation can't
            be scored, and waiting for it would wait forever.
    """

    def __init__(self, pool, bar=None):  # no super().__init__: it would start a fork Pool
        self.pool, self.bar, self.timeout, self.seed, self._closed = pool, bar, None, None, False
        self.genomes = self.frames = 0
        self.seconds = 0.0

    def evaluate(self, genomes, config):
        items = [g for _, g in genomes]
        try:
            results = self.pool.map(eval_genome, items) if isinstance(self.pool, Executor) else \
                self.pool.imap(eval_genome, items)
            for genome, (fitness, frames, seconds) in zip(items, results):
                genome.fitness = fitness
                self.genomes += 1
                self.frames += frames
                self.seconds += seconds
                if self.bar is not None:
                    self.bar.update(1)
        except BrokenProcessPool:
            raise WorkerError("a NEAT worker process died while playing a genome (the emulator crashed?); "
                              "the generation was not scored") from None

    def close(self, now: bool = False):
        """End the workers: after their tasks, or with ``now`` at once (after Ctrl-C)."""
        if self.pool is None or self._closed:
            return
        self._closed = True
        if isinstance(self.pool, Executor):
            if now:
                stop_pool(self.pool)
            else:
                self.pool.shutdown()
        elif now:
            self.pool.terminate()
        else:
            self.pool.close()
            self.pool.join()
        self.pool = None


__all__ = ["Episode", "GenomeFitness", "GenomePlayer", "GenomePolicy", "PoolEvaluator", "eval_genome",
           "fitness_kind", "init_worker", "io_sizes", "make_pool"]
