"""Evaluation: whole episodes of a policy, an mp4 of the first, each kept as an input movie, and
``emurl eval`` of a run folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import numpy as np
from sb3_contrib import MaskablePPO

from emurl.envs import EnvSpec, build_env
from emurl.errors import ConfigError
from emurl.fileio import atomic_write
from emurl.movies.record import InputRecorder, state_digest
from emurl.movies.replay import write_video
from emurl.train.config import TrainConfig, apply, load_yaml
from emurl.train.model import load_model, newest_intact_checkpoint
from emurl.vector.frames import publish_frames
from emurl.wrappers.metrics import summarize_episode_metrics


class EvalMovies(NamedTuple):
    """Where and with what :func:`run_episodes` keeps each episode as an input movie
    (``.emv``, :class:`~emurl.movies.Movie`): episode ``k`` goes to ``<prefix>_<k>.emv``."""

    prefix: Path
    """e.g. ``runs/<run>/movies/eval_5000``: episode 0 is ``movies/eval_5000_0.emv``"""
    spec: EnvSpec
    """the settings ``env`` was built with, stored so the movie replays through the same env"""
    metadata: dict = {}
    """more metadata for every movie (training steps, checkpoint)"""
    root: Path | None = None
    """the results name each movie relative to this folder (the run folder), else as ``prefix`` does"""


def episode_seeds(seed: int | None, episodes: int) -> list[int]:
    """The ``reset(seed=...)`` of each episode: drawn from ``numpy.random.SeedSequence(seed)``
    (``seed`` None: fresh entropy), 32-bit, so one ``seed`` gives the same episodes again."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(episodes, np.uint32)]


def _episode(model, env, deterministic: bool, frames: bool, seed: int | None) -> Iterator[np.ndarray]:
    """Play one episode from ``reset(seed=seed)``; yields the full screen before each step and
    after the last when ``frames``; returns (return, length, last info)."""
    obs, info = env.reset(seed=seed)
    state = None
    done = False
    ret, length = 0.0, 0
    episode_start = np.ones((1,), dtype=bool)
    masked = isinstance(model, MaskablePPO)
    while not done:
        if frames:
            yield env.render()
        if masked:  # only actions the env allows now (placement actions: reachable placements)
            action, state = model.predict(obs, deterministic=deterministic, action_masks=env.get_wrapper_attr("action_masks")())
        else:
            action, state = model.predict(obs, state=state, episode_start=episode_start, deterministic=deterministic)
        episode_start = np.zeros((1,), dtype=bool)
        obs, reward, terminated, truncated, info = env.step(int(action) if np.ndim(action) == 0 else action)
        ret += float(reward)
        length += 1
        done = terminated or truncated
    if frames:
        yield env.render()
    return ret, length, info


def episode_result(ret: float, length: int, seed: int, info: dict) -> dict:
    """One episode's entry of ``run_episodes(...)["per_episode"]``: ``return``, ``length``,
    ``seed``, ``success`` / ``win`` when the last step's info has them (the scenario's
    booleans), and ``metrics`` (the scenario's per-episode metrics: lap times, ...)."""
    out = {"return": ret, "length": length, "seed": seed}
    for key in ("success", "win"):
        if key in info:
            out[key] = bool(info[key])
    if "metrics" in info:  # a racing scenario's per-episode metrics (emurl.wrappers.metrics)
        out["metrics"] = {k: float(v) for k, v in info["metrics"].items()}
    return out


def _save_movie(recorder: InputRecorder, env, movies: EvalMovies, ep: int, deterministic: bool, result: dict) -> Path:
    """Write episode ``ep``'s movie (see :mod:`emurl.imitation.episodes` for its metadata)."""
    base = env.unwrapped
    final = {"frames": recorder.recorded_frames, **state_digest(recorder)}
    meta = {**movies.metadata, "recorded_by": "emurl.train.evaluate.run_episodes", "episode": ep,
            "deterministic": deterministic, "env": movies.spec.to_dict(), **result, "final": final}
    path = movies.prefix.with_name(f"{movies.prefix.name}_{ep}.emv")
    path.parent.mkdir(parents=True, exist_ok=True)
    recorder.movie(base.game, base.integration.require_rom(), meta).save(path)
    return path.relative_to(movies.root) if movies.root is not None else path


def run_episodes(model, env, episodes: int, deterministic: bool, video_path: Path | None = None,
                 progress: Callable[[int, float, int], None] | None = None, movies: EvalMovies | None = None,
                 seed: int | None = None) -> dict:
    """Play ``episodes`` whole episodes; returns returns, lengths and their mean/std, and
    ``per_episode``: one dict per episode (:func:`episode_result`, plus ``movie``).

    Episode ``k`` starts from ``env.reset(seed=episode_seeds(seed, episodes)[k])`` (``seed``
    None: new seeds each call), so its random no-ops and seeded episode start can be played again.

    With ``video_path``, the first episode's full screens are written there as an mp4
    (atomically, by :func:`emurl.movies.replay.write_video`); the frame rate is the game's
    divided by the frame skip, so it plays at the game's speed.

    With ``movies`` (``env`` must be an :class:`~emurl.envs.EmulatorEnv`, possibly wrapped),
    every episode is kept as an input movie (``per_episode[k]["movie"]`` names its file,
    relative to ``movies.root`` when set): an :class:`~emurl.movies.record.InputRecorder`
    between the env and its emulator records every frame's buttons of every port from the
    state the episode's first frame ran from; the movie's metadata holds the env settings,
    seed, return, length and the final screen and RAM digests, and
    ``emurl replay`` (:mod:`emurl.imitation.episodes`) plays it back to the same frames and return.

    When the scenario puts a boolean ``"success"`` in the step info (MiniKart: the race
    was finished), the result also holds ``successes`` (the last step's value per
    episode) and ``success_rate``; likewise ``"win"`` (a two-player game, the agent's
    seat) gives ``wins`` and ``win_rate``.

    Raises:
        ConfigError: ``episodes`` is not a whole number >= 1.
    """
    check_episodes(episodes)
    seeds = episode_seeds(seed, episodes)
    per_episode: list[dict] = []
    recorder = env.unwrapped.wrap_emulator(InputRecorder) if movies is not None else None
    try:
        for ep in range(episodes):
            filmed = video_path is not None and ep == 0
            episode = _episode(model, env, deterministic, filmed, seeds[ep])
            played: dict = {}

            def frames():
                played["episode"] = yield from episode

            if filmed:
                base = env.unwrapped
                fps = max(1.0, float(base.metadata.get("render_fps", 60)) / getattr(base, "frame_skip", 1))
                video_path.parent.mkdir(parents=True, exist_ok=True)
                write_video(frames(), video_path, fps)
            else:
                for _ in frames():
                    pass
            ret, length, info = played["episode"]
            result = episode_result(ret, length, seeds[ep], info)
            if recorder is not None:
                result["movie"] = str(_save_movie(recorder, env, movies, ep, deterministic, result))
            per_episode.append(result)
            if progress:
                progress(ep, ret, length)
    finally:
        if recorder is not None and env.unwrapped.emulator is recorder:
            env.unwrapped.unwrap_emulator()
    returns = [e["return"] for e in per_episode]
    lengths = [e["length"] for e in per_episode]
    out = {
        "episodes": episodes,
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "mean_length": float(np.mean(lengths)),
        "std_length": float(np.std(lengths)),
        "returns": returns,
        "lengths": lengths,
    }
    for key, plural in (("success", "successes"), ("win", "wins")):
        if all(key in e for e in per_episode):
            out[plural] = [e[key] for e in per_episode]
            out[f"{key}_rate"] = float(np.mean(out[plural]))
    metrics = [e["metrics"] for e in per_episode if "metrics" in e]
    if metrics:  # averaged over the episodes (finish rate, best lap: emurl.wrappers.metrics)
        out["metrics"] = summarize_episode_metrics(metrics)
    out["per_episode"] = per_episode
    return out


def check_episodes(episodes) -> None:
    """Raises ConfigError unless ``episodes`` is a whole number >= 1 (a mean of no episodes is NaN)."""
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ConfigError(f"episodes = {episodes!r}: expected a whole number >= 1")


def load_run_config(run_dir: str | os.PathLike) -> TrainConfig:
    """The frozen config of a run folder (``config.yaml``; flat ones of older runs too).

    Raises:
        FileNotFoundError: no ``config.yaml`` in ``run_dir``. ConfigError: a bad one.
    """
    cfg_file = Path(run_dir) / "config.yaml"
    if not cfg_file.is_file():
        raise FileNotFoundError(f"{cfg_file}: missing; a run folder holds its frozen config beside its checkpoints")
    return apply(TrainConfig(), load_yaml(cfg_file), str(cfg_file))


def evaluate(target: str | os.PathLike, episodes: int = 10, video: bool = False, deterministic: bool | None = None,
             progress=None, backend: str | None = None, opponent: str | None = None, movies: bool = True,
             seed: int | None = None) -> dict:
    """Evaluate a run folder (its newest intact checkpoint: ``latest.zip``, or when that one
    is damaged the newest intact ``model_<steps>.zip``, with a warning on stderr) or a
    checkpoint file inside a run.

    ``backend`` runs the evaluation on another emulator backend than the run's (a DS
    policy trained on ``"desmume"`` evaluated on ``"melonds"``); None keeps the run's.
    ``opponent`` (two-player runs) plays seat 1 with another opponent than the run's
    (``"greedy"`` after training against ``"random"``); ``eval.json`` records it.
    Writes ``eval.json`` (and ``videos/eval_final.mp4`` with ``video``) into the run folder;
    its ``backend`` says which one ran (None: the system's default). With ``movies`` every
    episode is kept as ``movies/eval_final_<episode>.emv`` (named relative to the run folder in
    ``eval.json``; see :func:`run_episodes`;
    ``emurl replay`` plays one back). ``seed``: the episodes' seeds (:func:`episode_seeds`).

    Raises:
        FileNotFoundError: no such folder or file, or no ``config.yaml`` beside it.
        CheckpointError: the run folder has no intact checkpoint; the given checkpoint file is
            damaged or not this run's (naming it).
        ConfigError: ``episodes`` < 1, or ``opponent`` for a one-player run.
        EmurlError: ``backend`` does not run this game's system.
    """
    check_episodes(episodes)
    target = Path(target)
    if target.is_dir():
        run_dir = target
        ckpt, _ = newest_intact_checkpoint(target)
    elif target.is_file():
        ckpt = target
        run_dir = target.parent.parent if target.parent.name == "checkpoints" else target.parent
    else:
        raise FileNotFoundError(f"{target}: no such run folder or checkpoint")
    cfg = load_run_config(run_dir)
    spec = cfg.eval_env()
    if backend is not None:
        spec = spec.replace(backend=backend)
    if opponent is not None:  # a two-player run against another opponent than it trained with
        if not spec.opponent:
            raise ConfigError(f"{run_dir}: this run plays one player ({spec.game}); --opponent is for two-player runs")
        spec = spec.replace(opponent=opponent)
    model = load_model(cfg, ckpt)  # before the env: a damaged file is reported without starting an emulator
    env = publish_frames(build_env(spec), 0)  # watched with emurl eval --show; nothing otherwise
    try:
        det = cfg.eval_deterministic if deterministic is None else deterministic
        kept = EvalMovies(run_dir / "movies" / "eval_final", spec,
                          {"steps": int(model.num_timesteps), "checkpoint": str(ckpt)}, run_dir) if movies else None
        res = run_episodes(model, env, episodes, det, run_dir / "videos" / "eval_final.mp4" if video else None, progress,
                           movies=kept, seed=seed)
    finally:
        env.close()
    res.update(checkpoint=str(ckpt), steps=int(model.num_timesteps), deterministic=det, backend=spec.backend,
               opponent=spec.opponent)
    atomic_write(run_dir / "eval.json", json.dumps(res, indent=2).encode())
    return res


__all__ = ["EvalMovies", "check_episodes", "episode_result", "episode_seeds", "evaluate", "load_run_config", "run_episodes"]
