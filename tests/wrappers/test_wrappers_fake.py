"""CropObservation, GrayResizeObservation and atari_pipeline over the fake emulator's env
(``tests/fakes.py``: a 96×128 screen with a red column at ``x``, a green row that flickers
between rows 10 and 20, and the score in blue on the last row).
"""

from __future__ import annotations

import cv2
import gymnasium as gym
import numpy as np
import pytest

from emurl.wrappers import CropObservation, GrayResizeObservation, atari_pipeline
from fakes import HEIGHT, WIDTH

COMBOS = [[], ["A"], ["RIGHT"], ["LEFT"]]
NOOP, A, RIGHT, LEFT = range(4)
ACTIONS = [RIGHT, RIGHT, A, LEFT, NOOP, A, RIGHT]


def gray_resize(rgb: np.ndarray, size: int = 84) -> np.ndarray:
    return cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (size, size), interpolation=cv2.INTER_AREA)


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape and got.dtype == want.dtype == np.uint8
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_crop_observation_keeps_the_region(fake_env):
    env, emu = fake_env(frame_skip=1)
    cropped = CropObservation(env, (60, 5, 16, 20))
    assert cropped.observation_space == gym.spaces.Box(0, 255, (20, 16, 3), np.uint8)
    obs, _ = cropped.reset()
    np.testing.assert_array_equal(obs, emu.screen()[5:25, 60:76])
    assert np.flatnonzero(obs[0, :, 0]).tolist() == [64 - 60]  # the red column x = 64
    gray = CropObservation(GrayResizeObservation(env, (HEIGHT, WIDTH)), (0, 0, 10, 30))
    assert gray.observation_space.shape == (30, 10)


@pytest.mark.parametrize("region", [(0, 0, WIDTH + 1, 10), (0, HEIGHT - 5, 10, 10), (-1, 0, 4, 4), (0, 0, 0, 4)])
def test_crop_outside_the_observation_is_refused(fake_env, region):
    env, _ = fake_env()
    with pytest.raises(ValueError, match="does not fit"):
        CropObservation(env, region)


def test_gray_resize_matches_opencv(fake_env):
    env, _ = fake_env(action_set=COMBOS, frame_skip=4)
    small = GrayResizeObservation(env, (48, 64))
    assert small.observation_space == gym.spaces.Box(0, 255, (48, 64), np.uint8)
    obs, _ = small.reset()
    raw = env.render()
    want = cv2.resize(cv2.cvtColor(raw, cv2.COLOR_RGB2GRAY), (64, 48), interpolation=cv2.INTER_AREA)
    assert_close(obs, want)
    assert obs.max() > 0


def test_gray_resize_refuses_what_is_not_an_image(fake_env):
    env, _ = fake_env(obs_type="ram")
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        GrayResizeObservation(env, (8, 8))
    env, _ = fake_env(obs_type="variables")
    with pytest.raises(ValueError, match="uint8"):
        GrayResizeObservation(env, (8, 8))


def test_atari_pipeline_stacks_gray_frames_of_the_env(fake_env):
    plain, _ = fake_env(action_set=COMBOS, frame_skip=4)
    env, _ = fake_env(action_set=COMBOS, frame_skip=4)
    env = atari_pipeline(env)
    assert env.observation_space == gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    want, _ = plain.reset(seed=0)
    obs, _ = env.reset(seed=0)
    for frame in obs:  # the stack starts as four copies of the reset frame
        assert_close(frame, gray_resize(want))
    rewards = []
    for action in ACTIONS:
        want, r_plain, *_ = plain.step(action)
        previous = obs
        obs, reward, *_ = env.step(action)
        np.testing.assert_array_equal(obs[:-1], previous[1:])  # the stack shifts by one
        assert_close(obs[-1], gray_resize(want))  # the newest frame: the env's (pooled) one
        rewards.append((r_plain, reward))
    assert rewards == [(4.0, 1.0) if a == A else (0.0, 0.0) for a in ACTIONS]  # clipped to [-1, 1]


def test_atari_pipeline_clips_rewards_only_when_asked(fake_env):
    env, _ = fake_env(action_set=COMBOS, frame_skip=4)
    clipped = atari_pipeline(env)
    clipped.reset()
    assert clipped.step(A)[1] == 1.0  # 4 points
    env, _ = fake_env(action_set=COMBOS, frame_skip=4)
    raw = atari_pipeline(env, clip_reward=False)
    raw.reset()
    assert raw.step(A)[1] == 4.0


def test_atari_pipeline_crop_and_colour_options(fake_env):
    env, _ = fake_env(frame_skip=4)
    right_half = atari_pipeline(env, crop=(64, 0, 64, 96), frame_stack=1)
    assert right_half.observation_space.shape == (84, 84)
    obs, _ = right_half.reset()
    # the red column x = 64 is the crop's first column: bright on the left edge only
    assert obs[50, 0] > 0 and obs[50, -1] == 0
    env, _ = fake_env(frame_skip=4)
    colour = atari_pipeline(env, grayscale=False, screen_size=42, frame_stack=3)
    assert colour.observation_space.shape == (3, 42, 42, 3)
    obs, _ = colour.reset()
    assert obs.shape == (3, 42, 42, 3) and obs[-1, ..., 0].max() > 0  # red survives: no gray
