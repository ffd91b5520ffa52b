"""Race features beside (or instead of) the screen: :class:`RaceFeaturesObservation`.

The features themselves (wall rays, the next checkpoint, speed) are game logic and live
with the integration: :class:`emurl.games.mkds.features.RaceFeatures`.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from emurl.games.mkds.features import RaceFeatures


class RaceFeaturesObservation(gym.ObservationWrapper):
    """Add :class:`RaceFeatures` to the observation of a Mario Kart DS env.

    Args:
        env: an env whose ``unwrapped.emulator`` runs Mario Kart DS (``emurl.make``'s).
        features: the :class:`RaceFeatures` to compute (default: its defaults).
        keep_observation: True: ``Dict(observation=<the env's>, features=Box(K,))``
            (Stable-Baselines3's ``MultiInputPolicy`` takes it); False: the features alone.

    On a Mario Kart DS env (your ROM; see the integration's README)::

        env = RaceFeaturesObservation(emurl.make("MarioKartDS-NintendoDs", state="yf"), keep_observation=False)
        env.observation_space.shape   # (19,)
    """

    def __init__(self, env: gym.Env, features: RaceFeatures | None = None, keep_observation: bool = True):
        super().__init__(env)
        self.features = features or RaceFeatures()
        self.keep_observation = bool(keep_observation)
        box = gym.spaces.Box(*self.features.bounds(), dtype=np.float32)
        if self.keep_observation:
            self.observation_space = gym.spaces.Dict({"observation": env.observation_space, "features": box})
        else:
            self.observation_space = box

    def observation(self, observation):
        vec = self.features(self.env.unwrapped.emulator)
        if self.keep_observation:
            return {"observation": observation, "features": vec}
        return vec


__all__ = ["RaceFeaturesObservation"]
