"""EnvSpec: one declaration of every env setting, the same env on every road."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import pytest

import emurl
from emurl.envs import V0, EnvSpec, build_env, check_spec
from emurl.envs.settings import env_settings, spec_from_dict
from emurl.errors import ConfigError, UnknownGameError, UnknownStateError

GAME = "Airstriker-Genesis"


def test_game_name_is_canonical_once():
    for name in ("emurl/Pong-Atari2600-v0", "Pong-Atari2600-v0", "Pong-Atari2600"):
        assert EnvSpec(name).game == "Pong-Atari2600"
    assert EnvSpec("Pong-Atari2600").replace(game="emurl/Breakout-Atari2600-v0").game == "Breakout-Atari2600"


def test_v0_pins_the_current_defaults():
    """-v0 means these settings: a change of EnvSpec's defaults must make a -v1, not move -v0."""
    defaults = {f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
                for f in dataclasses.fields(EnvSpec) if f.name != "game"}
    assert defaults == V0


@pytest.mark.parametrize("setting, value, words", [
    ("obs_type", "pixels", "obs_type must be one of rgb, ram, variables"),
    ("pipeline", "nature", "pipeline must be one of none, atari, auto"),
    ("backend", "mame", "backend must be one of none, retro, desmume, melonds"),
    ("screens", "left", "screens must be one of"),
    ("frame_skip", 0, "frame_skip must be a whole number >= 1"),
    ("frame_skip", True, "frame_skip must be a whole number >= 1"),
    ("crop", [1, 2, 3], "crop must be [x, y, width, height]"),
])
def test_bad_values_name_the_setting(setting, value, words):
    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("]", r"\]")):
        EnvSpec(GAME, **{setting: value})


def test_settings_from_strings_and_their_errors():
    spec = spec_from_dict({"frame-skip": "8", "max_pool": "no", "start_states": "a, b", "max_episode_steps": "1e3",
                           "crop": "[0, 10, 160, 180]", "backend": "none"}, "my.yaml")
    assert (spec.frame_skip, spec.max_pool, spec.start_states, spec.max_episode_steps, spec.crop, spec.backend) == \
        (8, False, ["a", "b"], 1000, [0, 10, 160, 180], None)
    with pytest.raises(ConfigError, match=r"my.yaml: unknown env setting 'frame_skp' \(did you mean frame_skip"):
        spec_from_dict({"frame_skp": 8}, "my.yaml")
    with pytest.raises(ConfigError, match=r"my.yaml: frame_skip = 'fast' is not a valid int"):
        spec_from_dict({"frame_skip": "fast"}, "my.yaml")
    with pytest.raises(ConfigError, match=r"my.yaml: obs_type must be one of"):
        spec_from_dict({"obs_type": "pixels"}, "my.yaml")


def test_env_settings_take_the_presets_env_part(tmp_path):
    """The Breakout preset's env settings (minimal actions, life loss, 27000 steps) and not its learner's."""
    spec = env_settings("Breakout-Atari2600")
    assert (spec.action_set, spec.terminal_on_life_loss, spec.max_episode_steps) == ("minimal", True, 27000)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("n_steps: 64\nenv:\n  frame_skip: 2\nnoop_max: 3\n")
    spec = env_settings("emurl/Breakout-Atari2600-v0", cfg, {"noop_max": None, "screen_size": 64})
    assert (spec.game, spec.frame_skip, spec.noop_max, spec.screen_size) == ("Breakout-Atari2600", 2, 3, 64)


def test_make_and_gym_make_give_the_same_env():
    a = gym.make(f"emurl/{GAME}-v0", pipeline="atari")
    try:
        space_a, skip_a = a.observation_space, a.unwrapped.frame_skip
    finally:
        a.close()
    b = emurl.make(GAME, pipeline="atari")
    try:
        assert (b.observation_space, b.unwrapped.frame_skip) == (space_a, skip_a)
        assert b.observation_space == gym.spaces.Box(0, 255, (4, 84, 84), "uint8") and skip_a == 4
    finally:
        b.close()


def test_make_takes_a_spec_and_pipeline_kwargs():
    spec = EnvSpec(GAME, pipeline="atari", max_episode_steps=3, episode_statistics=True)
    env = emurl.make(spec, pipeline_kwargs={"screen_size": 42, "frame_stack": 2})
    try:
        assert env.observation_space.shape == (2, 42, 42)
        env.reset(seed=0)
        ends = [env.step(0)[3] for _ in range(3)]
        assert ends == [False, False, True]  # truncated by the time limit, not terminated
    finally:
        env.close()
    with pytest.raises(ConfigError, match="unknown env setting.*frame_skp"):
        emurl.make(GAME, frame_skp=2)


def test_auto_pipeline_is_atari_on_pixels_only():
    assert EnvSpec(GAME, pipeline="auto").pixel_pipeline
    assert not EnvSpec(GAME, pipeline="auto", obs_type="ram").pixel_pipeline
    env = build_env(EnvSpec(GAME, pipeline="auto", obs_type="ram"))
    try:
        assert env.observation_space.shape == env.unwrapped.emulator.ram().shape
    finally:
        env.close()


def test_evaluation_spec_plays_whole_raw_games():
    spec = EnvSpec(GAME, start_states=["Level1"], terminal_on_life_loss=True, clip_reward=True, max_episode_steps=10)
    ev = spec.for_evaluation(99)
    assert (ev.start_states, ev.terminal_on_life_loss, ev.clip_reward, ev.max_episode_steps, ev.episode_statistics) == \
        (None, False, False, 99, True)
    assert (ev.game, ev.frame_skip, ev.obs_type) == (spec.game, spec.frame_skip, spec.obs_type)


def test_check_spec_reports_before_any_worker():
    check_spec(EnvSpec(GAME))
    with pytest.raises(UnknownGameError, match="Airstriker-Genesys"):
        check_spec(EnvSpec("Airstriker-Genesys"))
    with pytest.raises(UnknownStateError, match="Level9"):
        check_spec(EnvSpec(GAME, start_states=["Level1", "Level9"]))
