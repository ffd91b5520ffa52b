"""What a training run does between agent steps: checkpoints, evaluations, and stopping
cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections import deque
from pathlib import Path

from stable_baselines3.common.callbacks import BaseCallback

from emurl.envs import build_env
from emurl.train.config import TrainConfig
from emurl.train.evaluate import EvalMovies, run_episodes
from emurl.wrappers.metrics import summarize_episode_metrics
from emurl.train.model import prune_checkpoints, save_checkpoint


class StopOnSignal:
    """While training, SIGINT (Ctrl-C) and SIGTERM ask the run to stop at the next agent
    step: the callback then ends ``learn``, and ``latest.zip`` is saved (atomically) so
    that ``--resume`` continues from there. A second signal stops at once (Ctrl-C raises
    KeyboardInterrupt as usual). Outside the main thread (no signal handlers there) it
    does nothing."""

    def __init__(self):
        self.signal_name: str | None = None
        self.saved: dict = {}

    @property
    def requested(self) -> bool:
        return self.signal_name is not None

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.saved[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:  # second signal: stop now
            self.__exit__()
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            os.kill(os.getpid(), signum)
            return
        self.signal_name = signal.Signals(signum).name
        print(f"\n{self.signal_name}: stopping after this step and saving a checkpoint "
              "(send it again to stop at once)", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        self.saved = {}


def best_evaluation(run_dir: Path) -> float | None:
    """The best ``mean_return`` in a run's ``evaluations.jsonl`` that ``checkpoints/best.zip``
    holds (None without either; damaged lines are skipped)."""
    if not (run_dir / "checkpoints" / "best.zip").is_file():
        return None
    best = None
    try:
        lines = (run_dir / "evaluations.jsonl").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        try:
            value = float(json.loads(line)["mean_return"])
        except (ValueError, KeyError, TypeError):
            continue
        best = value if best is None else max(best, value)
    return best


class RunCallback(BaseCallback):
    """Atomic checkpoints every ``checkpoint_every`` agent steps (``model_<steps>.zip`` and
    ``latest.zip``; only the newest ``keep_checkpoints`` numbered ones are kept),
    evaluations every ``eval_every`` (TensorBoard ``eval/*``, a line in
    ``evaluations.jsonl``, ``videos/eval_<steps>.mp4``, every episode as the input movie
    ``movies/eval_<steps>_<episode>.emv``, ``best.zip`` when it is the best so far), a last
    checkpoint and evaluation at the end, and an early stop when ``stop`` says so."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, stop: StopOnSignal | None = None):
        super().__init__()
        self.cfg, self.run_dir, self.stop = cfg, Path(run_dir), stop
        self.next_ckpt: int | None = None
        self.next_eval: int | None = None
        self.eval_env = None
        self.eval_spec = None
        self.last_eval: int | None = None
        self.t0 = time.time()
        self.steps0 = 0
        self.best: float | None = best_evaluation(self.run_dir)  # a resumed run keeps its best
        self.saved_steps: int | None = None

    def _on_training_start(self) -> None:
        n, cfg = self.model.num_timesteps, self.cfg
        self.steps0 = n
        self.next_ckpt = (n // cfg.checkpoint_every + 1) * cfg.checkpoint_every if cfg.checkpoint_every else None
        self.next_eval = (n // cfg.eval_every + 1) * cfg.eval_every if cfg.eval_every else None

    def checkpoint(self) -> None:
        n = self.model.num_timesteps
        folder = self.run_dir / "checkpoints"
        save_checkpoint(self.model, folder / f"model_{n}.zip")
        save_checkpoint(self.model, folder / "latest.zip")
        self.saved_steps = n
        prune_checkpoints(self.run_dir, self.cfg.keep_checkpoints)

    def evaluate(self) -> None:
        cfg = self.cfg
        if self.eval_env is None:
            self.eval_spec = cfg.eval_env()
            self.eval_env = build_env(self.eval_spec)
        n = self.model.num_timesteps
        video = self.run_dir / "videos" / f"eval_{n}.mp4" if cfg.video else None
        self.last_eval = n
        movies = EvalMovies(self.run_dir / "movies" / f"eval_{n}", self.eval_spec, {"steps": n}, self.run_dir)
        res = run_episodes(self.model, self.eval_env, cfg.eval_episodes, cfg.eval_deterministic, video, movies=movies)
        self.logger.record("eval/mean_return", res["mean_return"])
        self.logger.record("eval/mean_length", res["mean_length"])
        for key in ("success_rate", "win_rate"):
            if key in res:
                self.logger.record(f"eval/{key}", res[key])
        for key, value in res.get("metrics", {}).items():  # a racing scenario's: lap times, finish rate, ...
            self.logger.record(f"eval/{key}", value)
        with open(self.run_dir / "evaluations.jsonl", "a") as f:
            f.write(json.dumps({"steps": n, "time": time.time(), **res}) + "\n")
        if self.best is None or res["mean_return"] > self.best:
            save_checkpoint(self.model, self.run_dir / "checkpoints" / "best.zip")
            self.best = res["mean_return"]

    def _on_step(self) -> bool:
        if self.stop is not None and self.stop.requested:
            return False  # learn() ends; _on_training_end saves latest.zip
        n = self.model.num_timesteps
        if self.next_ckpt is not None and n >= self.next_ckpt:
            self.checkpoint()
            self.next_ckpt += self.cfg.checkpoint_every
        if self.next_eval is not None and n >= self.next_eval:
            self.evaluate()
            self.next_eval += self.cfg.eval_every
        return True

    def _on_rollout_end(self) -> None:
        dt = time.time() - self.t0
        if dt > 0:
            self.logger.record("time/agent_steps_per_s", (self.model.num_timesteps - self.steps0) / dt)

    def _on_training_end(self) -> None:
        self.checkpoint()
        try:
            stopped = self.stop is not None and self.stop.requested
            if self.last_eval != self.model.num_timesteps and not stopped:
                self.evaluate()
        finally:
            self.close()

    def close(self) -> None:
        """Close the evaluation env (its emulator holds this process's one slot); also when
        ``learn`` ended by an exception, which skips ``_on_training_end``."""
        if self.eval_env is not None:
            self.eval_env.close()
            self.eval_env = None


class TrainingEpisodes(BaseCallback):
    """Every training episode's end as one line of ``episodes.jsonl`` in the run folder:
    ``{"steps": agent steps so far, "env": index, "return", "length", "metrics": {...}}``
    (``metrics``: the scenario's per-episode metrics, :mod:`emurl.wrappers.metrics`, for
    a racing game; return and length from SB3's ``Monitor``). When the scenario declares
    metrics, TensorBoard also gets ``rollout/<metric>`` over the last ``window`` training
    episodes (``rollout/finish_rate``, lap times, ...), as SB3 averages ``ep_rew_mean``.
    Lines are appended as episodes end, so a resumed run continues the file, and the
    agent step of a run's first finished race is the first line whose ``metrics.finished``
    is 1 (:func:`first_episode`)."""

    def __init__(self, run_dir: Path, window: int = 100):
        super().__init__()
        self.path = Path(run_dir) / "episodes.jsonl"
        self.recent: deque[dict] = deque(maxlen=window)

    def _on_step(self) -> bool:
        lines = []
        for i, (info, done) in enumerate(zip(self.locals["infos"], self.locals["dones"])):
            if not done or "episode" not in info:
                continue
            row = {"steps": int(self.model.num_timesteps), "env": i,
                   "return": float(info["episode"]["r"]), "length": int(info["episode"]["l"])}
            if "metrics" in info:
                row["metrics"] = {k: float(v) for k, v in info["metrics"].items()}
                self.recent.append(row["metrics"])
            lines.append(json.dumps(row) + "\n")
        if lines:
            with open(self.path, "a") as f:
                f.writelines(lines)
        return True

    def _on_rollout_end(self) -> None:
        for key, value in summarize_episode_metrics(self.recent).items():
            self.logger.record(f"rollout/{key}", value)


def first_episode(run_dir: str | os.PathLike, metric: str = "finished") -> dict | None:
    """The first line of a run's ``episodes.jsonl`` whose ``metrics[metric]`` is truthy
    (``"finished"``: the first finished race; ``"race_time_s"``: the first whole race from
    its start, present only then); None when there is none or no file. Damaged lines are
    skipped."""
    try:
        lines = (Path(run_dir) / "episodes.jsonl").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        try:
            row = json.loads(line)
            if row.get("metrics", {}).get(metric):
                return row
        except (ValueError, AttributeError):
            continue
    return None


__all__ = ["RunCallback", "StopOnSignal", "TrainingEpisodes", "best_evaluation", "first_episode"]
