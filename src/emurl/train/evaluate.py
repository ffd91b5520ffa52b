"""Evaluation: whole episodes of a policy, an mp4 of the first, and ``emurl eval`` of a run folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from sb3_contrib import MaskablePPO

from emurl.envs import build_env
from emurl.errors import ConfigError
from emurl.fileio import atomic_write
from emurl.movies.replay import write_video
from emurl.train.config import TrainConfig, apply, load_yaml
from emurl.train.model import load_model, newest_intact_checkpoint


def _episode(model, env, deterministic: bool, frames: bool) -> Iterator[np.ndarray]:
    """Play one episode; yields the full screen before each step and after the last when
    ``frames``; returns (return, length, last info)."""
    obs, info = env.reset()
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


def run_episodes(model, env, episodes: int, deterministic: bool, video_path: Path | None = None,
                 progress: Callable[[int, float, int], None] | None = None) -> dict:
    """Play ``episodes`` whole episodes; returns returns, lengths and their mean/std.

    With ``video_path``, the first episode's full screens are written there as an mp4
    (atomically, by :func:`emurl.movies.replay.write_video`); the frame rate is the game's
    divided by the frame skip, so it plays at the game's speed.

    When the scenario puts a boolean ``"success"`` in the step info (MiniKart: the race
    was finished), the result also holds ``successes`` (the last step's value per
    episode) and ``success_rate``; likewise ``"win"`` (a two-player game, the agent's
    seat) gives ``wins`` and ``win_rate``.

    Raises:
        ConfigError: ``episodes`` is not a whole number >= 1.
    """
    check_episodes(episodes)
    returns, lengths, successes, wins = [], [], [], []
    for ep in range(episodes):
        filmed = video_path is not None and ep == 0
        episode = _episode(model, env, deterministic, frames=filmed)
        result: dict = {}

        def frames():
            result["episode"] = yield from episode

        if filmed:
            base = env.unwrapped
            fps = max(1.0, float(base.metadata.get("render_fps", 60)) / getattr(base, "frame_skip", 1))
            video_path.parent.mkdir(parents=True, exist_ok=True)
            write_video(frames(), video_path, fps)
        else:
            for _ in frames():
                pass
        ret, length, info = result["episode"]
        returns.append(ret)
        lengths.append(length)
        if "success" in info:
            successes.append(bool(info["success"]))
        if "win" in info:
            wins.append(bool(info["win"]))
        if progress:
            progress(ep, ret, length)
    out = {
        "episodes": episodes,
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "mean_length": float(np.mean(lengths)),
        "std_length": float(np.std(lengths)),
        "returns": returns,
        "lengths": lengths,
    }
    for key, flags in (("success", successes), ("win", wins)):
        if len(flags) == episodes:
            out[f"{key}es" if key == "success" else f"{key}s"] = flags
            out[f"{key}_rate"] = float(np.mean(flags))
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
             progress=None, backend: str | None = None, opponent: str | None = None) -> dict:
    """Evaluate a run folder (its newest intact checkpoint: ``latest.zip``, or when that one
    is damaged the newest intact ``model_<steps>.zip``, with a warning on stderr) or a
    checkpoint file inside a run.

    ``backend`` runs the evaluation on another emulator backend than the run's (a DS
    policy trained on ``"desmume"`` evaluated on ``"melonds"``); None keeps the run's.
    ``opponent`` (two-player runs) plays seat 1 with another opponent than the run's
    (``"greedy"`` after training against ``"random"``); ``eval.json`` records it.
    Writes ``eval.json`` (and ``videos/eval_final.mp4`` with ``video``) into the run folder;
    its ``backend`` says which one ran (None: the system's default).

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
    env = build_env(spec)
    try:
        det = cfg.eval_deterministic if deterministic is None else deterministic
        res = run_episodes(model, env, episodes, det, run_dir / "videos" / "eval_final.mp4" if video else None, progress)
    finally:
        env.close()
    res.update(checkpoint=str(ckpt), steps=int(model.num_timesteps), deterministic=det, backend=spec.backend,
               opponent=spec.opponent)
    atomic_write(run_dir / "eval.json", json.dumps(res, indent=2).encode())
    return res


__all__ = ["check_episodes", "evaluate", "load_run_config", "run_episodes"]
