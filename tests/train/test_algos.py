"""A2C and recurrent PPO through the run folder: train, resume, evaluate; their checkpoints
are refused as another algorithm's; their policies and presets."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from sb3_contrib import RecurrentPPO
from stable_baselines3 import A2C

from emurl.errors import CheckpointError, ConfigError
from emurl.train.config import ALGOS, TrainConfig, apply, build_config
from emurl.train.evaluate import evaluate, load_run_config
from emurl.train.model import ALGORITHMS, checkpoint_steps, load_model, policy_name
from emurl.train.run import train
from tiny_run import tiny_config

# small: an LSTM of 16 units on Airstriker's variables, rollouts of 16 steps
SMALL = dict(total_steps=32, n_steps=16, batch_size=16, checkpoint_every=16, lstm_hidden_size=16, torch_threads=1,
             lr_schedule="constant")  # linear decays to 0 at total_steps: the last update would not move


@pytest.fixture(scope="module", params=["a2c", "recurrent_ppo"])
def algo_run(request, tmp_path_factory):
    """A run of ``algo`` trained to 32 agent steps, then resumed to 48."""
    algo = request.param
    cfg = tiny_config(tmp_path_factory.mktemp(algo), algo=algo, **SMALL)
    run = train(cfg, progress_bar=False)
    first = checkpoint_steps(run / "checkpoints" / "latest.zip")
    weights = {k: v.clone() for k, v in load_model(cfg, run / "checkpoints" / "latest.zip").policy.state_dict().items()}
    train(resume=run, overrides={"total_steps": 48}, progress_bar=False)
    return algo, run, first, weights


def test_train_resume_and_eval_round_trip(algo_run):
    algo, run, first, weights = algo_run
    assert run.name.startswith(f"Airstriker-Genesis__{algo}__0__")
    assert first == 32
    cfg = load_run_config(run)
    assert cfg.algo == algo and cfg.total_steps == 48  # the resume's new length is the run's now
    assert (run / "config.prev.yaml").is_file()
    model = load_model(cfg, run / "checkpoints" / "latest.zip")
    assert type(model) is ALGORITHMS[algo] and model.num_timesteps == 48
    assert sorted(p.name for p in (run / "checkpoints").glob("model_*.zip")) == [
        "model_16.zip", "model_32.zip", "model_48.zip"]
    # the resumed run learned on from the checkpoint's weights: they moved
    after = model.policy.state_dict()
    assert weights.keys() == after.keys()
    assert any(not np.array_equal(weights[k].numpy(), after[k].numpy()) for k in weights)
    res = evaluate(run, episodes=2, deterministic=True)
    assert res["steps"] == 48 and res["episodes"] == 2 and all(1 <= n <= 10 for n in res["lengths"])
    assert json.loads((run / "eval.json").read_text())["checkpoint"].endswith("latest.zip")


def test_recurrent_policy_has_the_configured_lstm(algo_run):
    algo, run, _, _ = algo_run
    model = load_model(load_run_config(run), run / "checkpoints" / "latest.zip")
    if algo == "recurrent_ppo":
        assert type(model) is RecurrentPPO
        assert model.policy.lstm_actor.hidden_size == 16 and model.policy.lstm_actor.num_layers == 1
        # the state it returns carries what it saw: the same observation after two different ones
        obs = np.zeros((1, *model.observation_space.shape), np.float32)
        start = np.ones(1, bool)
        _, after_zeros = model.predict(obs, state=None, episode_start=start, deterministic=True)
        _, after_other = model.predict(obs + 50, state=None, episode_start=start, deterministic=True)
        on = np.zeros(1, bool)
        _, a = model.predict(obs, state=after_zeros, episode_start=on, deterministic=True)
        _, b = model.predict(obs, state=after_other, episode_start=on, deterministic=True)
        _, c = model.predict(obs, state=after_other, episode_start=start, deterministic=True)  # a new episode forgets
        _, d = model.predict(obs, state=None, episode_start=start, deterministic=True)
        assert not np.allclose(a[0], b[0]) and np.allclose(c[0], d[0])
    else:
        assert type(model) is A2C and not hasattr(model.policy, "lstm_actor")


def test_a_checkpoint_of_another_algorithm_is_refused(algo_run, trained_run):
    """A PPO checkpoint is no A2C or recurrent PPO checkpoint, and the other way round."""
    algo, run, _, _ = algo_run
    cfg = load_run_config(run)
    with pytest.raises(CheckpointError, match=f"cannot load as a {algo} checkpoint"):
        load_model(cfg, trained_run / "checkpoints" / "latest.zip")
    ppo = load_run_config(trained_run)
    with pytest.raises(CheckpointError, match="cannot load as a ppo checkpoint"):
        load_model(ppo, run / "checkpoints" / "latest.zip")


def test_resume_cannot_change_the_algorithm_or_the_lstm(algo_run):
    _, run, _, _ = algo_run
    with pytest.raises(ConfigError, match="cannot resume with a different algo"):
        train(resume=run, overrides={"algo": "ppo", "total_steps": 64}, progress_bar=False)
    with pytest.raises(ConfigError, match="lstm_hidden_size"):
        train(resume=run, overrides={"lstm_hidden_size": 32, "total_steps": 64}, progress_bar=False)


def test_policies_for_each_observation():
    box = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    dict_space = gym.spaces.Dict({"a": gym.spaces.Box(0, 1, (3,), np.float32)})
    for algo, obs_type, space, want in [
        ("recurrent_ppo", "rgb", box, "CnnLstmPolicy"), ("recurrent_ppo", "ram", box, "MlpLstmPolicy"),
        ("recurrent_ppo", "features", dict_space, "MultiInputLstmPolicy"), ("a2c", "rgb", box, "CnnPolicy"),
        ("a2c", "variables", box, "MlpPolicy"), ("ppo", "features", dict_space, "MultiInputPolicy"),
    ]:
        cfg = apply(TrainConfig(), {"algo": algo, "obs_type": obs_type}, "test")
        assert policy_name(cfg, space) == want
    assert set(ALGOS) == set(ALGORITHMS)


def test_settings_and_presets_of_the_algorithms():
    with pytest.raises(ConfigError, match="lstm_hidden_size = 0"):
        apply(TrainConfig(), {"algo": "recurrent_ppo", "lstm_hidden_size": 0}, "test")
    with pytest.raises(ConfigError, match="algo must be one of"):
        apply(TrainConfig(), {"algo": "a3c"}, "test")
    with pytest.raises(ConfigError, match="minibatch of at least 2"):
        apply(TrainConfig(), {"algo": "recurrent_ppo", "batch_size": 1}, "test")
    assert apply(TrainConfig(), {"algo": "a2c", "batch_size": 1}, "test").batch_size == 1  # A2C has no minibatches
    ppo = build_config("MiniKart-NintendoDs")
    a2c = build_config("MiniKart-NintendoDs", overrides={"algo": "a2c"})
    rec = build_config("MiniKart-NintendoDs", overrides={"algo": "recurrent_ppo"})
    assert (ppo.algo, a2c.algo, rec.algo) == ("ppo", "a2c", "recurrent_ppo")
    assert a2c.n_steps < ppo.n_steps  # A2C's short rollouts (the a2c preset)
    assert (rec.lstm_hidden_size, rec.batch_size) == (128, 512)  # the recurrent_ppo preset
    assert rec.env.frame_stack == ppo.env.frame_stack  # PPO's datasets clone into it
    # the preset's settings give way to the command line's
    assert build_config("MiniKart-NintendoDs", overrides={"algo": "a2c", "n_steps": 7}).n_steps == 7
    # the env settings stay the game's
    assert a2c.env.action_set == rec.env.action_set == ppo.env.action_set == "steer"
