"""TrainConfig holds an EnvSpec: flat keys still work, old run folders still load."""

from __future__ import annotations

import yaml
import pytest

from emurl.envs import EnvSpec
from emurl.errors import ConfigError
from emurl.train.config import TrainConfig, apply, build_config, settings, train_env_defaults, write_yaml_atomic
from emurl.train.evaluate import load_run_config


def test_flat_keys_route_to_the_env_or_the_learner():
    cfg = apply(TrainConfig(), {"game": "emurl/Pong-Atari2600-v0", "frame_skip": "8", "n_steps": "64",
                                "env": {"noop_max": 5}}, "cli")
    assert (cfg.env.game, cfg.env.frame_skip, cfg.env.noop_max, cfg.n_steps) == ("Pong-Atari2600", 8, 5, 64)
    assert cfg.game == "Pong-Atari2600" and cfg.run_name(7) == "Pong-Atari2600__ppo__0__7"
    with pytest.raises(ConfigError, match=r"cli: unknown setting 'n_step' \(did you mean n_steps"):
        apply(cfg, {"n_step": 1}, "cli")
    with pytest.raises(ConfigError, match="cli: algo must be one of ppo, dqn"):
        apply(cfg, {"algo": "sac"}, "cli")


def test_presets_and_precedence(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("frame_skip: 2\nlearning_rate: 1e-3\n")
    cfg = build_config("MiniKart-NintendoDs", str(f), {"learning_rate": "5e-4", "seed": None})
    assert cfg.env.action_set == "steer" and cfg.env.max_pool is False  # the preset
    assert cfg.env.frame_skip == 2  # the file over the preset's 8
    assert cfg.learning_rate == 5e-4  # the command line over the file
    assert cfg.env.noop_max == 30 and cfg.env.pipeline == "auto"  # training's defaults


def test_config_yaml_round_trip_and_old_flat_files(tmp_path):
    cfg = build_config("Breakout-Atari2600", None, {"total_steps": 1234})
    write_yaml_atomic(tmp_path / "config.yaml", cfg.to_dict())
    data = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert data["env"]["game"] == "Breakout-Atari2600" and "frame_skip" not in data  # env settings nested once
    assert load_run_config(tmp_path) == cfg
    # a run folder of before EnvSpec: every setting flat at the top
    old = {"game": "Breakout-Atari2600", "algo": "ppo", "state": "default", "start_states": None, "obs_type": "rgb",
           "action_set": "minimal", "frame_skip": 4, "max_pool": True, "backend": None, "screens": None, "noop_max": 30,
           "max_episode_steps": 27000, "terminal_on_life_loss": True, "screen_size": 84, "frame_stack": 4,
           "clip_reward": True, "crop": None, "total_steps": 1234, "num_envs": 8, "game_path": None}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(old))
    loaded = load_run_config(tmp_path)
    assert loaded.env == cfg.env.replace(pipeline="auto", episode_statistics=True) and loaded.total_steps == 1234


def test_a_bad_config_file_names_itself(tmp_path):
    (tmp_path / "config.yaml").write_text("frame_skip: [1\n")
    with pytest.raises(ConfigError, match="config.yaml: not valid YAML"):
        load_run_config(tmp_path)
    (tmp_path / "config.yaml").write_text("env: 3\n")
    with pytest.raises(ConfigError, match="env must be a mapping"):
        load_run_config(tmp_path)
    with pytest.raises(FileNotFoundError, match="config.yaml: missing"):
        load_run_config(tmp_path / "nothing")


def test_every_setting_has_a_doc_and_one_home():
    names = [s.name for s in settings()]
    assert len(names) == len(set(names))  # no setting in both EnvSpec and TrainConfig
    assert all(s.doc for s in settings()), [s.name for s in settings() if not s.doc]
    assert {s.name for s in settings() if s.env} == set(EnvSpec.__dataclass_fields__)
    assert train_env_defaults().episode_statistics  # training logs raw returns


def test_evaluation_counts_successes_and_wins():
    """run_episodes reports success_rate / win_rate when the scenario's info says so."""
    import gymnasium as gym
    import numpy as np

    from emurl.train.evaluate import run_episodes

    class Env(gym.Env):
        observation_space = gym.spaces.Box(0, 1, (1,), np.float32)
        action_space = gym.spaces.Discrete(2)

        def __init__(self):
            self.episode = 0

        def reset(self, *, seed=None, options=None):
            self.episode += 1
            return np.zeros(1, np.float32), {}

        def step(self, action):
            win = self.episode % 2 == 1
            return np.zeros(1, np.float32), 1.0, True, False, {"win": win, "success": True}

    class Policy:
        def predict(self, obs, state=None, episode_start=None, deterministic=False):
            return 0, None

    res = run_episodes(Policy(), Env(), 4, deterministic=True)
    assert res["wins"] == [True, False, True, False] and res["win_rate"] == 0.5
    assert res["successes"] == [True] * 4 and res["success_rate"] == 1.0
