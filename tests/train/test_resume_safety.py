"""A failed command never damages a run: refused resumes write nothing, a resumed run's
config.yaml changes only once it has started (the old one kept), a damaged latest.zip falls
back to the previous checkpoint, a new run folder whose start failed is removed, and two runs
started in the same second get two folders."""

from __future__ import annotations

import threading
import types

import pytest
import yaml
from stable_baselines3 import PPO

import emurl.train.run as run_module
from emurl.cli import main
from emurl.errors import CheckpointError, ConfigError, EmurlError, UnknownStateError
from emurl.train.config import RESUMABLE, settings
from emurl.train.run import new_run_folder, run_lock, train
from tiny_run import folder_digest, tiny_config

CONFLICTS = [
    {"game": "MiniDoc-Nes"}, {"algo": "dqn"}, {"obs_type": "rgb"}, {"obs_type": "ram"}, {"frame_stack": 2},
    {"frame_skip": 2}, {"action_set": "all"}, {"pipeline": "atari"}, {"max_pool": False}, {"clip_reward": False},
    {"scenario": "other"}, {"screen_size": 64}, {"terminal_on_life_loss": True}, {"backend": "retro"},
    {"gamma": 0.9}, {"n_steps": 64}, {"batch_size": 64}, {"n_epochs": 2}, {"gae_lambda": 0.9}, {"clip_range": 0.2},
    {"vf_coef": 1.0}, {"max_grad_norm": 1.0}, {"seed": 1}, {"precision": "fp32"}, {"runs_dir": "elsewhere"},
    {"buffer_size": 10}, {"frame_stack": 2, "algo": "dqn", "total_steps": 500},
]
"""Settings of the run's policy, learner or name: each refused on resume (with a resumable one too in the last)."""

BAD_VALUES = [
    {"total_steps": 0}, {"total_steps": 96}, {"total_steps": "-5"}, {"num_envs": 0}, {"learning_rate": "nan"},
    {"learning_rate": -1}, {"eval_episodes": 0}, {"max_episode_steps": 0}, {"noop_max": -1}, {"keep_checkpoints": -1},
    {"checkpoint_every": "soon"}, {"no_such_setting": 1}, {"env": 3},
]
"""Resumable settings with values out of range (or nothing left to train), and unknown settings."""


@pytest.mark.parametrize("changes", CONFLICTS + BAD_VALUES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_a_refused_resume_leaves_the_run_byte_identical(run_copy, changes):
    before = folder_digest(run_copy)
    with pytest.raises(ConfigError) as info:
        train(resume=run_copy, overrides=changes, progress_bar=False)
    assert folder_digest(run_copy) == before
    message = str(info.value)
    assert any(k in message for k in changes), message
    if changes.keys() - RESUMABLE - {"no_such_setting", "env"}:  # a conflict: the run's value, the asked one, the way out
        assert "the run's is" in message and f"emurl train --config {run_copy / 'config.yaml'}" in message


def test_the_conflict_message_names_the_values_and_a_new_run(run_copy):
    with pytest.raises(ConfigError) as info:
        train(resume=run_copy, overrides={"frame_stack": "2", "total_steps": 500}, progress_bar=False)
    message = str(info.value)
    assert "frame_stack: the run's is 4, asked 2" in message and "--set frame_stack=2" in message
    assert "total_steps" not in message.split("On resume")[0]  # a resumable change is not a conflict
    assert "learning_rate" in message.split("On resume")[1]  # what may change is said


def test_every_setting_is_declared_resumable_or_not():
    names = {s.name for s in settings()}
    assert RESUMABLE <= names
    assert {"game", "algo", "obs_type", "frame_stack", "action_set", "frame_skip", "pipeline", "gamma"} <= names - RESUMABLE
    assert {"total_steps", "learning_rate", "eval_every", "checkpoint_every", "num_envs"} <= RESUMABLE


def test_refused_resumes_from_the_command_line_write_nothing(run_copy, tmp_path, capsys):
    before = folder_digest(run_copy)
    f = tmp_path / "mine.yaml"
    f.write_text("env:\n  frame_stack: 3\n")
    for argv in (["--frame-stack", "2"], ["--game", "MiniDoc-Nes"], ["--algo", "dqn"], ["--config", str(f)],
                 ["--set", "gamma=0.5"], ["--init-from", str(run_copy / "checkpoints" / "model_32.zip")],
                 ["--total-steps", "0"], ["--state", "NoSuchState", "--total-steps", "200"]):
        assert main(["train", "--resume", str(run_copy), "--no-progress", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("emurl: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert folder_digest(run_copy) == before


def test_a_failing_start_of_a_resume_writes_nothing(run_copy):
    """An allowed change (a start state) whose env fails to start: config.yaml is not rewritten."""
    before = folder_digest(run_copy)
    with pytest.raises(UnknownStateError):
        train(resume=run_copy, overrides={"state": "NoSuchState", "total_steps": 200}, progress_bar=False)
    assert folder_digest(run_copy) == before


def test_a_run_being_trained_is_not_resumed_twice(run_copy):
    before = folder_digest(run_copy)
    with run_lock(run_copy):
        with pytest.raises(ConfigError, match="another process is training this run"):
            train(resume=run_copy, overrides={"total_steps": 200}, progress_bar=False)
    assert folder_digest(run_copy) == before


def test_no_intact_checkpoint_is_a_clear_error_and_writes_nothing(run_copy):
    for p in (run_copy / "checkpoints").glob("*.zip"):
        p.write_bytes(p.read_bytes()[:100])
    before = folder_digest(run_copy)
    with pytest.raises(CheckpointError, match="no intact checkpoint.*latest.zip"):
        train(resume=run_copy, overrides={"total_steps": 200}, progress_bar=False)
    assert folder_digest(run_copy) == before


def test_a_damaged_latest_resumes_from_the_previous_checkpoint(run_copy, capsys):
    ckpts = run_copy / "checkpoints"
    latest = ckpts / "latest.zip"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])  # cut short
    data = bytearray((ckpts / "model_96.zip").read_bytes())
    data[len(data) // 3] ^= 0xFF  # a byte changed: its CRC fails
    (ckpts / "model_96.zip").write_bytes(bytes(data))
    old_config = (run_copy / "config.yaml").read_bytes()

    train(resume=run_copy, overrides={"total_steps": 128, "learning_rate": 1e-3, "ent_coef": 0.05, "num_envs": 2},
          progress_bar=False)
    err = capsys.readouterr().err
    assert "latest.zip: damaged checkpoint" in err and "model_96.zip: damaged checkpoint" in err
    assert f"using {ckpts / 'model_64.zip'} (64 agent steps)" in err
    model = PPO.load(latest)
    assert model.num_timesteps == 128  # 64 + one rollout of 2 envs x 32
    assert model.lr_schedule(1.0) == pytest.approx(1e-3) and model.ent_coef == 0.05 and model.n_envs == 2
    assert model.gamma == 0.99 and model.n_steps == 32  # the run's, untouched
    # the new settings frozen once the run had started; the previous file kept as it was
    assert (run_copy / "config.prev.yaml").read_bytes() == old_config
    cfg = yaml.safe_load((run_copy / "config.yaml").read_text())
    assert (cfg["total_steps"], cfg["learning_rate"], cfg["num_envs"]) == (128, 1e-3, 2)


def test_a_new_run_whose_start_fails_leaves_no_folder(tmp_path, monkeypatch):
    runs = tmp_path / "runs"

    def broken(cfg, run_dir=None):
        raise RuntimeError("the vector env did not start")

    monkeypatch.setattr(run_module, "make_vec", broken)
    with pytest.raises(RuntimeError, match="did not start"):
        train(tiny_config(runs), progress_bar=False)
    assert list(runs.iterdir()) == []
    with pytest.raises(UnknownStateError):  # refused before a folder is made
        train(tiny_config(runs, state="NoSuchState"), progress_bar=False)
    with pytest.raises(EmurlError, match="nothing.zip"):
        train(tiny_config(runs), init_from=str(tmp_path / "nothing.zip"), progress_bar=False)
    assert list(runs.iterdir()) == []


def test_runs_dir_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        new_run_folder(tmp_path / "file", "A__ppo__0__1")
    with pytest.raises(ConfigError, match="cannot make"):
        new_run_folder(tmp_path / "file" / "sub", "A__ppo__0__1")


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    folders: list = []
    barrier = threading.Barrier(8)

    def start():
        barrier.wait()
        folders.append(new_run_folder(tmp_path, "Airstriker-Genesis__ppo__0__1796400000"))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = sorted(f.name for f in folders)
    assert len(set(names)) == 8 and all(f.is_dir() for f in folders)
    assert names[0] == "Airstriker-Genesis__ppo__0__1796400000"
    assert set(names[1:]) == {f"Airstriker-Genesis__ppo__0__1796400000-{k}" for k in range(2, 9)}


def test_a_second_run_in_the_same_second_and_kept_checkpoints(tmp_path, monkeypatch):
    """train() itself: a folder of the same name exists → ``-2``; keep_checkpoints=2 keeps the
    newest two numbered checkpoints beside latest.zip and best.zip."""
    monkeypatch.setattr(run_module, "time", types.SimpleNamespace(time=lambda: 1796400000.0))
    cfg = tiny_config(tmp_path, total_steps=128, keep_checkpoints=2)
    (tmp_path / cfg.run_name(1796400000.0)).mkdir()
    run_dir = train(cfg, progress_bar=False)
    assert run_dir.name == "Airstriker-Genesis__ppo__0__1796400000-2"
    names = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert names == ["best.zip", "latest.zip", "model_128.zip", "model_96.zip"]
