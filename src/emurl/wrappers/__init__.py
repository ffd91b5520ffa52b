"""Observation pipelines from Gymnasium's wrappers, plus only what Gymnasium lacks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import ClipReward, FrameStackObservation, GrayscaleObservation, ResizeObservation


class CropObservation(gym.ObservationWrapper):
    """Keep a rectangle of an image observation (e.g. the DS top screen, or a HUD-free area).

    Args:
        env: an env whose observations are uint8 (H, W) or (H, W, C).
        region: ``(x, y, width, height)`` in pixels of the observation.

    Raises:
        ValueError: the region lies outside the observation.

    The result is a view into the observation (no copy); wrappers after it copy.

    >>> CropObservation(env, (0, 0, 256, 192)).observation_space   # doctest: +SKIP
    Box(0, 255, (192, 256, 3), uint8)
    """

    def __init__(self, env: gym.Env, region: tuple[int, int, int, int]):
        super().__init__(env)
        x, y, w, h = (int(v) for v in region)
        shape = env.observation_space.shape
        if x < 0 or y < 0 or w <= 0 or h <= 0 or y + h > shape[0] or x + w > shape[1]:
            raise ValueError(f"crop region {region} (x, y, width, height) does not fit in an observation of shape {shape}")
        self._slices = (slice(y, y + h), slice(x, x + w))
        self.observation_space = gym.spaces.Box(0, 255, (h, w) + shape[2:], np.uint8)

    def observation(self, observation):
        return observation[self._slices]


def atari_pipeline(
    env: gym.Env,
    screen_size: int = 84,
    grayscale: bool = True,
    frame_stack: int = 4,
    clip_reward: bool = True,
    crop: tuple[int, int, int, int] | None = None,
) -> gym.Env:
    """The Atari-style pipeline of Mnih et al. (2015) over an RGB env.

    Frame skip and the max of the last two frames are the env's own (``frame_skip=4``,
    ``max_pool=True`` in :class:`~emurl.envs.EmulatorEnv`), which reads only those two
    screens. Then: optional crop, resize to ``screen_size``² with ``cv2.INTER_AREA``,
    grayscale (ITU-R 709 weights), a stack of ``frame_stack`` frames, reward clipped to
    [-1, 1]. Resizing before grayscale gives the same image (both are linear) for a tenth
    of the work.

    Returns:
        An env whose observations are uint8 (frame_stack, screen_size, screen_size), or
        (frame_stack, size, size, 3) without grayscale; without a stack the leading axis
        is dropped.
    """
    if crop is not None:
        env = CropObservation(env, crop)
    env = ResizeObservation(env, (screen_size, screen_size))
    if grayscale:
        env = GrayscaleObservation(env, keep_dim=False)
    if frame_stack and frame_stack > 1:
        env = FrameStackObservation(env, frame_stack)
    if clip_reward:
        env = ClipReward(env, -1.0, 1.0)
    return env


__all__ = ["CropObservation", "atari_pipeline"]
