"""`emurl bc DATASET --seq-len N` clones into recurrent PPO's LSTM policy (Breakout's RAM
through MlpLstmPolicy: ale-py's ROM, a scripted player), and `emurl train --algo
recurrent_ppo --init-from` continues it with the same actions on the dataset's states."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sb3_contrib import RecurrentPPO

from emurl.cli import main
from emurl.envs.spec import EnvSpec
from emurl.imitation import load_dataset, record_dataset
from emurl.train.bc import action_probabilities, behaviour_clone
from emurl.train.bc_fit import forward_sequences, play_through
from emurl.train.evaluate import evaluate, load_run_config
from test_bc import GAME, scripted_movies

SMALL = {"torch_threads": 1, "lstm_hidden_size": 32}
SEQ_LEN = 8


@pytest.fixture(scope="module")
def ram_dataset(atari_roms, tmp_path_factory):
    """Two 100-step movies of the scripted Breakout player, recorded as RAM observations
    (uint8 (128,): ``--pipeline none`` with ``obs_type: ram``)."""
    d = tmp_path_factory.mktemp("bcr")
    paths = scripted_movies(d)
    record_dataset(paths, d / "ds", num_proc=1, pipeline="none", config=EnvSpec(GAME, obs_type="ram", frame_skip=4),
                   progress=False)
    return d / "ds"


@pytest.fixture(scope="module")
def cloned(ram_dataset, tmp_path_factory):
    return behaviour_clone(ram_dataset, tmp_path_factory.mktemp("bcrun") / "run", seq_len=SEQ_LEN, epochs=6,
                           batch_size=32, learning_rate=3e-3, overrides=SMALL, progress=False, log=None)


def step_by_step(model, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic actions (N,) and action probabilities (N, A) of ``model`` playing ``obs`` as
    one episode the way evaluation plays it: ``predict`` with ``state`` and ``episode_start``
    carried (and the policy's distribution with its LSTM state carried the same way)."""
    policy = model.policy
    h = (torch.zeros(policy.lstm_hidden_state_shape), torch.zeros(policy.lstm_hidden_state_shape))
    state, start, actions, probs = None, np.ones(1, bool), [], []
    for o in obs:
        with torch.no_grad():
            dist, h = policy.get_distribution(torch.as_tensor(o[None]), h, torch.as_tensor(start, dtype=torch.float32))
        probs.append(dist.distribution.probs[0].numpy())
        action, state = model.predict(o, state=state, episode_start=start, deterministic=True)
        actions.append(int(action))
        start = np.zeros(1, bool)
    return np.array(actions), np.array(probs)


def test_the_cloned_run_is_a_recurrent_ppo_run(ram_dataset, cloned):
    ds = load_dataset(ram_dataset)
    assert ds.obs.shape[1:] == (128,) and ds.meta["pipeline"] == "none"
    cfg = load_run_config(cloned.run_dir)
    assert (cfg.algo, cfg.env.obs_type, cfg.lstm_hidden_size) == ("recurrent_ppo", "ram", 32)
    model = RecurrentPPO.load(str(cloned.checkpoint), device="cpu")
    assert type(model.policy).__name__ == "RecurrentActorCriticPolicy"  # MlpLstmPolicy on RAM
    assert model.policy.lstm_actor.hidden_size == 32
    report = json.loads((cloned.run_dir / "bc.json").read_text())
    assert report["algo"] == "recurrent_ppo" and report["seq_len"] == SEQ_LEN and len(report["history"]) == 6
    assert cloned.history[-1]["loss"] < cloned.history[0]["loss"]  # it fits the actions
    assert cloned.train_steps + cloned.val_steps == len(ds) and 0 <= cloned.train_accuracy <= 1
    res = evaluate(cloned.run_dir, episodes=1)  # emurl eval of the cloned policy, its LSTM state carried
    assert res["episodes"] == 1 and res["lengths"][0] >= 1


def test_sequences_and_step_by_step_play_agree(ram_dataset, cloned):
    """The sequences cloning trains on are the episodes as predict plays them: the same state
    handling gives the same probabilities, and seq_len only cuts where gradients stop."""
    ds = load_dataset(ram_dataset)
    model = RecurrentPPO.load(str(cloned.checkpoint), device="cpu")
    first = ds.episodes()[0]
    obs = ds.obs[first][:40]
    actions, probs = step_by_step(model, obs)
    np.testing.assert_allclose(action_probabilities(model, obs), probs, rtol=0, atol=1e-5)
    # states carried across the cut sequences = one pass over the episode
    _, hits, _ = play_through(model.policy, ds.obs, ds.actions, ds.episodes(), SEQ_LEN)
    _, hits_one, _ = play_through(model.policy, ds.obs, ds.actions, ds.episodes(), 1000)
    np.testing.assert_array_equal(hits, hits_one)
    assert np.array_equal(hits[first][:40], actions == ds.actions[first][:40])
    # and the state matters: the same observations from a zero state at step 20 act otherwise
    from emurl.train.bc_fit import _zero_states

    logits, _, _ = forward_sequences(model.policy, torch.as_tensor(obs[20:]), _zero_states(model.policy, 1))
    assert not np.allclose(torch.softmax(logits, -1).detach().numpy(), probs[20:], atol=1e-4)


def test_init_from_keeps_the_cloned_actions(ram_dataset, cloned, tmp_path):
    """`emurl train --config RUN/config.yaml --algo recurrent_ppo --init-from CKPT` with a
    learning rate of 0: the run's checkpoint plays the dataset's first states with the cloned
    policy's actions and probabilities, its LSTM state carried from the episode's start."""
    runs = tmp_path / "runs"
    rc = main(["train", "--config", str(cloned.run_dir / "config.yaml"), "--algo", "recurrent_ppo",
               "--init-from", str(cloned.checkpoint), "--total-steps", "64", "--num-envs", "1", "--n-steps", "32",
               "--batch-size", "32", "--n-epochs", "1", "--learning-rate", "0", "--lr-schedule", "constant",
               "--eval-every", "0", "--eval-max-steps", "10", "--checkpoint-every", "0", "--video", "false",
               "--torch-threads", "1", "--runs-dir", str(runs), "--no-progress"])
    assert rc == 0
    (run,) = runs.iterdir()
    assert run.name.startswith(f"{GAME}__recurrent_ppo__0__")
    trained = RecurrentPPO.load(str(run / "checkpoints" / "latest.zip"), device="cpu")
    assert trained.num_timesteps >= 64
    ds = load_dataset(ram_dataset)
    first = ds.obs[ds.episodes()[0]][:50]
    want_actions, want_probs = step_by_step(RecurrentPPO.load(str(cloned.checkpoint), device="cpu"), first)
    got_actions, got_probs = step_by_step(trained, first)
    np.testing.assert_array_equal(got_actions, want_actions)
    np.testing.assert_allclose(got_probs, want_probs, rtol=0, atol=1e-6)


def test_seq_len_on_the_command_line(ram_dataset, tmp_path, capsys):
    out = tmp_path / "r.zip"
    assert main(["bc", str(ram_dataset), "--seq-len", "16", "--epochs", "1", "--out", str(out), "--set",
                 "torch_threads=1", "--set", "lstm_hidden_size=8", "--no-progress"]) == 0
    assert RecurrentPPO.load(str(out), device="cpu").policy.lstm_actor.hidden_size == 8
    assert main(["bc", str(ram_dataset), "--seq-len", "0", "--out", str(tmp_path / "z.zip")]) != 0
    assert "--seq-len 0" in capsys.readouterr().err
