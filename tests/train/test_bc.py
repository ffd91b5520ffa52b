"""Behaviour cloning on a dataset recorded from a scripted Breakout player (ale-py's ROM):
it fits the player's actions, and its checkpoint starts `emurl train --init-from` with the
same action distribution."""

from __future__ import annotations

import argparse
import json
import shutil

import numpy as np
import pytest

import emurl
from emurl.imitation import DatasetError, load_dataset, record_dataset, rollout_movie
from emurl.train.bc import (
    DATASET_ENV_FIELDS,
    action_probabilities,
    behaviour_clone,
    discounted_returns,
    split_steps,
    train_config_for,
)

GAME = "Breakout-Atari2600"
NOOP, FIRE, LEFT, RIGHT = 0, 1, 6, 12
# One learner thread (the test machine's other core is busy); float32, whose policy has the
# Nature network's heads (see emurl.train.bc on the bfloat16 policy's heads).
FAST = {"torch_threads": 1, "precision": "fp32"}


def tracker(delay: int):
    """Breakout from RAM (ball x at 0x63, y at 0x65, paddle x at 0x48, as the game's RAM
    shows while it runs): wait ``delay`` steps, fire, then keep the paddle under the ball."""
    step = iter(range(10**9))

    def policy(ram, info):
        if next(step) < delay:
            return NOOP
        if ram[101] == 0:
            return FIRE
        d = int(ram[99]) - (int(ram[72]) + 12)
        return RIGHT if d > 3 else (LEFT if d < -3 else NOOP)

    return policy


def scripted_movies(folder) -> list:
    """Two 100-step movies of the scripted Breakout player (delays 0 and 7) in ``folder``."""
    env = emurl.make(GAME, obs_type="ram", frame_skip=4)
    paths = []
    try:
        for i, delay in enumerate((0, 7)):
            movie, _ = rollout_movie(env, tracker(delay), 100)
            paths.append(folder / f"t{i}.emv")
            movie.save(paths[-1])
    finally:
        env.close()
    return paths


@pytest.fixture(scope="module")
def dataset(atari_roms, tmp_path_factory):
    d = tmp_path_factory.mktemp("bc")
    paths = scripted_movies(d)
    record_dataset(paths, d / "ds", num_proc=2, progress=False)
    return d / "ds"


@pytest.fixture(scope="module")
def cloned(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("bcrun") / "run"
    res = behaviour_clone(dataset, out, epochs=40, batch_size=16, learning_rate=1e-3, val_fraction=0.1,
                          overrides=FAST, progress=False, log=None)
    return res


@pytest.mark.slow
def test_bc_fits_a_scripted_player(dataset, cloned):
    ds = load_dataset(dataset)
    assert len(set(ds.actions.tolist())) >= 3          # FIRE, LEFT, RIGHT (and NOOP)
    assert cloned.train_accuracy > 0.9, cloned.history[-1]
    assert cloned.val_accuracy is not None and cloned.train_steps + cloned.val_steps == len(ds)
    assert cloned.history[-1]["loss"] < cloned.history[0]["loss"]
    run = cloned.run_dir
    assert (run / "checkpoints" / "latest.zip").is_file() and cloned.checkpoint == run / "checkpoints" / "latest.zip"
    report = json.loads((run / "bc.json").read_text())
    assert report["train_accuracy"] == cloned.train_accuracy and len(report["history"]) == 40
    probs = action_probabilities(cloned.checkpoint, ds.obs[:64])
    assert probs.shape == (64, 4) and probs.dtype == np.float32  # the preset's action set: ALE's minimal
    assert np.allclose(probs.sum(1), 1, atol=1e-5)


def test_checkpoint_continues_in_emurl_train_with_the_same_policy(dataset, cloned, tmp_path):
    """`emurl train --config RUN/config.yaml --init-from RUN/checkpoints/latest.zip`; with a
    learning rate of 0 PPO's updates leave the weights as they were loaded, so the run's
    checkpoint holds the initialised policy."""
    from emurl.cli import main

    ds = load_dataset(dataset)
    sample = ds.obs[::7]
    runs = tmp_path / "runs"
    rc = main(["train", "--config", str(cloned.run_dir / "config.yaml"), "--init-from", str(cloned.checkpoint),
               "--total-steps", "256", "--num-envs", "1", "--n-steps", "128", "--batch-size", "64", "--n-epochs", "1",
               "--learning-rate", "0", "--lr-schedule", "constant", "--eval-every", "0", "--eval-max-steps", "10",
               "--checkpoint-every", "0", "--video", "false", "--torch-threads", "1",
               "--runs-dir", str(runs), "--no-progress"])
    assert rc == 0
    (run,) = list(runs.iterdir())
    from stable_baselines3 import PPO

    model = PPO.load(str(run / "checkpoints" / "latest.zip"), device="cpu")
    assert model.num_timesteps >= 256
    np.testing.assert_allclose(action_probabilities(model, sample), action_probabilities(cloned.checkpoint, sample),
                               rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore:You have specified a mini-batch size")
def test_checkpoint_has_the_architecture_of_the_run_it_starts(dataset, cloned):
    """The model `train(init_from=...)` builds from the run's config takes the checkpoint's
    weights as they are (same keys and shapes, whatever the config's precision)."""
    from emurl.train.bc import _spaces_env
    from emurl.train.config import TrainConfig, apply, load_yaml
    from emurl.train.model import build_model, load_model

    import gymnasium as gym

    cfg = apply(TrainConfig(), load_yaml(cloned.run_dir / "config.yaml"), "config.yaml")
    env = _spaces_env(gym.spaces.Box(0, 255, (4, 84, 84), np.uint8), gym.spaces.Discrete(4))
    model = build_model(cfg, env, None)
    src = load_model(cfg, str(cloned.checkpoint))
    assert type(model.policy.features_extractor) is type(src.policy.features_extractor)
    model.policy.load_state_dict(src.policy.state_dict())  # strict: every key, every shape
    sample = load_dataset(dataset).obs[::5]
    np.testing.assert_array_equal(action_probabilities(model, sample), action_probabilities(src, sample))


def test_train_config_takes_the_datasets_observations_and_actions(dataset):
    """From meta["config"] (an EnvSpec's to_dict) a cloned run takes what makes its
    observations and actions, not the recording's episode settings (no no-ops, raw
    rewards); a dataset of the older format, whose config holds only those settings as
    flat keys, gives the same config."""
    ds = load_dataset(dataset)
    assert ds.meta["config"]["noop_max"] == 0 and ds.meta["config"]["clip_reward"] is False
    cfg = train_config_for(ds, overrides=FAST)
    assert (cfg.game, cfg.env.action_set, cfg.env.backend, cfg.env.frame_stack) == (GAME, "minimal", "retro", 4)
    assert cfg.env.noop_max == 30 and cfg.env.clip_reward is True  # training's, as a run of the preset has them
    old = load_dataset(dataset)
    old.meta = dict(old.meta, config={k: v for k, v in ds.meta["config"].items() if k in DATASET_ENV_FIELDS})
    assert train_config_for(old, overrides=FAST) == cfg


def test_splits_returns_and_bad_datasets(dataset, tmp_path):
    ds = load_dataset(dataset)
    train, val = split_steps(ds, 0.1)
    assert len(train) + len(val) == len(ds) and not set(train) & set(val)
    for ep in ds.episodes():   # the end of each episode is held out
        assert ep.stop - 1 in set(val.tolist())
    ret = discounted_returns(ds, 0.99, clip=True)
    assert ret.dtype == np.float32 and ret.shape == (len(ds),)
    last = ds.episodes()[0].stop - 1
    assert ret[last] == np.clip(ds.rewards[last], -1, 1)

    with pytest.raises(FileExistsError):
        behaviour_clone(dataset, dataset, epochs=1, progress=False, log=None)
    copy = tmp_path / "raw"
    shutil.copytree(dataset, copy)
    meta = json.loads((copy / "meta.json").read_text())
    (copy / "meta.json").write_text(json.dumps(dict(meta, pipeline="none")))
    with pytest.raises(DatasetError, match="pipeline 'none'"):
        behaviour_clone(copy, tmp_path / "x.zip", epochs=1, progress=False, log=None)
    with pytest.raises(DatasetError, match="no such dataset folder"):
        behaviour_clone(tmp_path / "nothing", tmp_path / "y.zip", epochs=1, progress=False, log=None)


def test_cli_bc_to_a_zip(dataset, tmp_path, capsys):
    from emurl.cli.learn import register

    parser = argparse.ArgumentParser(prog="emurl")
    register(parser.add_subparsers(dest="verb"))
    out = tmp_path / "bc.zip"
    args = parser.parse_args(["bc", str(dataset), "--epochs", "1", "--batch-size", "64", "--out", str(out),
                              "--set", "torch_threads=1", "--set", "precision=fp32", "--no-progress"])
    assert args.func(args) == 0
    assert out.is_file() and "train accuracy" in capsys.readouterr().out
    args = parser.parse_args(["bc", str(dataset), "--recurrent", "--out", str(tmp_path / "r.zip")])
    with pytest.raises(Exception, match="recurrent"):
        args.func(args)
