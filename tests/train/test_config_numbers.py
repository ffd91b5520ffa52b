"""Every number of a training config is checked where the config is made: a value out of range
is a ConfigError naming the setting, the value and what is allowed; nothing trains on it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emurl.cli import main
from emurl.envs.settings import PRESETS
from emurl.errors import ConfigError
from emurl.train.config import RANGES, TrainConfig, apply, build_config

BAD = {
    "total_steps": ["0", "-1", "abc", "nan", "inf", "", 1.5],
    "num_envs": ["0", "-2", "1025", "many", 2.5],
    "seed": ["-1", "4294967296", 0.5],
    "learning_rate": ["-1e-4", "2", "nan", "inf", "fast"],
    "gamma": ["0", "-0.5", "1.5", "1.0001", "nan", "-inf"],
    "n_steps": ["0", "-128"],
    "batch_size": ["0", "-1", "1"],  # 1: PPO normalises advantages over a minibatch
    "n_epochs": ["0", "-1"],
    "gae_lambda": ["-0.1", "1.1", "nan"],
    "clip_range": ["0", "-0.1", "1.5"],
    "ent_coef": ["-0.01", "inf"],
    "vf_coef": ["-1", "nan"],
    "max_grad_norm": ["0", "-1"],
    "buffer_size": ["0", "-5"],
    "learning_starts": ["-1"],
    "train_freq": ["0"],
    "target_update_interval": ["0"],
    "exploration_fraction": ["-0.1", "1.5"],
    "exploration_final_eps": ["-0.01", "2"],
    "checkpoint_every": ["-1", "often"],
    "keep_checkpoints": ["-1"],
    "eval_every": ["-1"],
    "eval_episodes": ["0", "-3"],
    "eval_max_steps": ["0", "-1"],
    "torch_threads": ["-1"],
    "frame_skip": ["0", "-4", "fast"],
    "noop_max": ["-1"],
    "max_episode_steps": ["0", "-10"],
    "screen_size": ["0", "20"],  # 20: below the CNN's 36
    "frame_stack": ["0", "-1"],
    "crop": ["-1,0,10,10", "0,0,0,10", "1,2,3"],
    "players": ["0", "5"],
    "precision": ["fp16"],
    "device": ["gpu", "cuda:x", ""],
    "algo": ["sac"],
    "lr_schedule": ["cosine"],
    "runs_dir": [" "],
}
"""Values each setting refuses (strings as the command line gives them, others as YAML does)."""

GOOD = {
    "total_steps": [("1", 1), ("1e6", 1_000_000), (2e5, 200_000)],
    "num_envs": [("1", 1), ("1024", 1024)],
    "seed": [("0", 0), ("2147483647", 2**31 - 1)],
    "learning_rate": [("1", 1.0), ("3e-4", 3e-4), ("0", 0.0)],
    "gamma": [("1", 1.0), ("0.0001", 1e-4)],
    "gae_lambda": [("0", 0.0), ("1", 1.0)],
    "clip_range": [("1", 1.0)],
    "ent_coef": [("0", 0.0)],
    "exploration_final_eps": [("0", 0.0), ("1", 1.0)],
    "checkpoint_every": [("0", 0)],
    "keep_checkpoints": [("0", 0)],
    "eval_every": [("0", 0)],
    "eval_episodes": [("1", 1)],
    "learning_starts": [("0", 0)],
    "torch_threads": [("0", 0)],
    "noop_max": [("0", 0)],
    "max_episode_steps": [("none", None), ("1", 1)],
    "screen_size": [("36", 36)],
    "device": [("cpu", "cpu"), ("cuda:1", "cuda:1")],
}
"""Edge values each setting takes, and what the config then holds."""


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, vs in BAD.items() for v in vs],
                         ids=[f"{k}={v!r}" for k, vs in BAD.items() for v in vs])
def test_an_out_of_range_value_names_the_setting(key, value):
    with pytest.raises(ConfigError) as info:
        apply(TrainConfig(), {key: value}, "command line")
    message = str(info.value)
    assert message.startswith("command line: ") and key in message, message


@pytest.mark.parametrize(("key", "value", "held"), [(k, v, h) for k, vs in GOOD.items() for v, h in vs],
                         ids=[f"{k}={v!r}" for k, vs in GOOD.items() for v, _ in vs])
def test_an_edge_value_is_taken(key, value, held):
    cfg = apply(TrainConfig(), {key: value}, "command line")
    got = getattr(cfg.env if key in cfg.env.__dataclass_fields__ else cfg, key)
    assert got == held and type(got) is type(held)


def test_what_the_algorithm_needs_of_several_numbers():
    with pytest.raises(ConfigError, match=r"n_steps = 1 with num_envs = 1: ppo needs a rollout of at least 2"):
        apply(TrainConfig(), {"n_steps": 1, "num_envs": 1}, "test")
    assert apply(TrainConfig(), {"n_steps": 1, "num_envs": 2}, "test").n_steps == 1
    assert apply(TrainConfig(), {"algo": "dqn", "batch_size": 1}, "test").batch_size == 1  # DQN has no minibatch rule
    assert apply(TrainConfig(), {"obs_type": "ram", "screen_size": 8}, "test").env.screen_size == 8  # no CNN on RAM


def test_the_message_gives_the_value_and_the_range():
    with pytest.raises(ConfigError, match=r"^x.yaml: gamma = 1.5: expected a number > 0 and <= 1$"):
        apply(TrainConfig(), {"gamma": 1.5}, "x.yaml")
    with pytest.raises(ConfigError, match=r"^total_steps = 0: expected a whole number >= 1$"):
        TrainConfig(total_steps=0)
    assert TrainConfig(total_steps=1e5).total_steps == 100_000 and type(TrainConfig(gamma=1).gamma) is float


@pytest.mark.parametrize("preset", sorted(p.stem for p in PRESETS.glob("*.yaml")))
def test_every_preset_is_in_range(preset):
    assert build_config(preset).game == preset


NUMBERS = sorted(RANGES)
VALUES = st.one_of(st.text(max_size=12), st.integers(-2**40, 2**40), st.floats(), st.booleans(), st.none(),
                   st.lists(st.integers(-3, 3), max_size=5), st.sampled_from(["1e3", "0.5", "1", "none", "-0", "1e-9"]))


@settings(max_examples=400, deadline=None)
@given(key=st.sampled_from(NUMBERS), value=VALUES)
def test_fuzz_any_value_is_taken_in_range_or_refused(key, value):
    """Whatever the command line or a YAML file gives: a ConfigError naming the setting, or a
    config whose number is of its type and in its range."""
    try:
        cfg = apply(TrainConfig(), {key: value}, "fuzz")
    except ConfigError as exc:
        assert key in str(exc)
        return
    got = getattr(cfg.env if key in cfg.env.__dataclass_fields__ else cfg, key)
    if got is None:
        assert key == "max_episode_steps"
        return
    assert math.isfinite(got) and got in RANGES[key]
    assert type(got) is (int if RANGES[key].integer else float)


@pytest.mark.parametrize("argv", [
    ["train", "--total-steps", "0"], ["train", "--num-envs", "0"], ["train", "--set", "gamma=1.5"],
    ["train", "--learning-rate", "nan"], ["train", "--frame-stack", "0"], ["train", "--batch-size", "1"],
    ["eval", "no-such-run", "--episodes", "0"], ["eval", "no-such-run", "--episodes", "-2"],
])
def test_the_command_line_refuses_with_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("emurl: error: ") and err.count("\n") == 1, err


@pytest.mark.parametrize("value", ["1e400", "1.5", True])
def test_coerce_refuses_what_is_no_whole_number(value):
    with pytest.raises(ConfigError, match="total_steps"):
        apply(TrainConfig(), {"total_steps": value}, "command line")
