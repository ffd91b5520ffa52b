"""Training goes on when an env worker is killed, and stops with a checkpoint when workers keep dying
(Airstriker-Genesis ships with stable-retro)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import emurl
import emurl.train.run as run_module
from emurl.envs import build_env
from emurl.errors import WorkerError
from emurl.train.callbacks import RunCallback
from emurl.train.config import build_config
from emurl.train.run import train
from emurl.train.worker_health import TAG, WorkerHealthCallback, worker_restarts
from emurl.vector import SharedMemoryVecEnv, WorkerRestartWarning

GAME = "Airstriker-Genesis"
SMALL = {"num_envs": 2, "n_steps": 32, "batch_size": 64, "n_epochs": 1, "total_steps": 192, "checkpoint_every": 0,
         "eval_every": 0, "eval_max_steps": 20, "video": False, "noop_max": 0, "torch_threads": 1}


def _kill_worker(venv, i: int) -> None:
    process = venv.unwrapped.processes[i]
    os.kill(process.pid, signal.SIGKILL)
    process.join(10)


class _KillOnce(BaseCallback):
    """SIGKILLs worker 1 once, at the first step at or past ``at`` agent steps."""

    def __init__(self, at: int):
        super().__init__()
        self.at, self.done = at, False

    def _on_step(self) -> bool:
        if not self.done and self.model.num_timesteps >= self.at:
            _kill_worker(self.training_env, 1)
            self.done = True
        return True


def _scalars(tb_dir: Path) -> list[tuple[int, float]]:
    """(step, value) of each ``workers/restarts`` record in the one event file under ``tb_dir``."""
    (events,) = tb_dir.rglob("events.out.tfevents.*")
    acc = EventAccumulator(str(events))
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(TAG)]


def test_restarts_are_recorded_in_tensorboard(tmp_path):
    venv = SharedMemoryVecEnv([lambda: emurl.make(GAME, pipeline="atari")] * 2)
    try:
        model = PPO("CnnPolicy", venv, n_steps=16, batch_size=32, n_epochs=1, tensorboard_log=str(tmp_path), seed=0)
        with pytest.warns(WorkerRestartWarning):
            model.learn(64, callback=[_KillOnce(at=40), WorkerHealthCallback()], tb_log_name="run")
        assert model.num_timesteps == 64 and worker_restarts(model.get_env()) == 1
    finally:
        venv.close()
    assert _scalars(tmp_path) == [(32, 0.0), (64, 1.0)]  # two rollouts of 16 steps x 2 envs; the kill in the second


@pytest.mark.slow
def test_a_worker_killed_during_a_training_run_does_not_stop_it(tmp_path, monkeypatch):
    seen = {}

    class KillingRunCallback(RunCallback):
        def _on_step(self) -> bool:
            if "killed" not in seen and self.model.num_timesteps >= 70:  # in the second rollout
                _kill_worker(self.training_env, 1)
                seen["killed"] = self.model.num_timesteps
            return super()._on_step()

        def _on_training_end(self) -> None:
            seen["restarts"] = worker_restarts(self.training_env)
            super()._on_training_end()

    monkeypatch.setattr(run_module, "RunCallback", KillingRunCallback)
    cfg = build_config(GAME, None, {**SMALL, "runs_dir": str(tmp_path / "runs")})
    with pytest.warns(WorkerRestartWarning, match="env 1 .*SIGKILL"):
        run_dir = train(cfg, progress_bar=False)
    assert seen == {"killed": 70, "restarts": 1}
    assert PPO.load(run_dir / "checkpoints" / "latest.zip").num_timesteps == 192  # every step trained
    assert _scalars(run_dir / "tb") == [(64, 0.0), (128, 1.0), (192, 1.0)]  # run.py's WorkerHealthCallback


class _DiesAfterFirstStart:
    """A run's env factory whose worker is SIGKILLed at every start after the run's first
    ``num_envs`` (an emulator that crashes whenever it starts again)."""

    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self):
        for n in range(100):  # claim the next start number; O_EXCL: no two workers get the same
            try:
                os.close(os.open(Path(self.cfg.runs_dir) / f"start-{n}", os.O_CREAT | os.O_EXCL))
                break
            except FileExistsError:
                continue
        if n >= self.cfg.num_envs:
            os.kill(os.getpid(), signal.SIGKILL)
        return build_env(self.cfg.env)


@pytest.mark.slow
def test_workers_that_keep_dying_stop_the_run_with_a_checkpoint(tmp_path, monkeypatch, capsys):
    class KillOnceRunCallback(RunCallback):
        def _on_step(self) -> bool:
            if self.model.num_timesteps == 80:
                _kill_worker(self.training_env, 1)
            return super()._on_step()

    monkeypatch.setattr(run_module, "RunCallback", KillOnceRunCallback)
    monkeypatch.setattr(run_module, "_EnvFactory", _DiesAfterFirstStart)
    runs = tmp_path / "runs"
    runs.mkdir()
    cfg = build_config(GAME, None, {**SMALL, "runs_dir": str(runs)})
    with pytest.warns(WorkerRestartWarning), pytest.raises(WorkerError, match="workers keep dying") as info:
        train(cfg, progress_bar=False)
    assert "env 1 (Airstriker-Genesis)" in str(info.value)
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    latest = PPO.load(run_dir / "checkpoints" / "latest.zip")
    assert latest.num_timesteps == 80  # saved at the step where the workers gave up
    assert f"continue with: emurl train --resume {run_dir}" in capsys.readouterr().err
    assert np.isfinite(latest.policy.parameters().__next__().detach().numpy()).all()
