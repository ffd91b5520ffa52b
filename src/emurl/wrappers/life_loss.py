"""End training episodes at each life lost, while the game itself goes on."""

from __future__ import annotations

import gymnasium as gym


class LifeLossTermination(gym.Wrapper):
    """``terminated`` when the ``lives`` variable of the step info drops (Mnih et al. 2015).

    The next ``reset()`` then does not restart the game: it runs one step with action 0
    (no buttons for emurl's ``"discrete"`` action set) and play continues from the lost
    life, so value estimates see each life as an episode while whole games are played.
    A real game over (or truncation) resets as usual. Place episode statistics *inside*
    this wrapper so they count whole games.

    Raises:
        KeyError: the env's info has no ``lives`` (the scenario must read that variable;
            add it to the scenario's ``"info"`` list).
    """

    def __init__(self, env: gym.Env, variable: str = "lives"):
        super().__init__(env)
        self.variable = variable
        self.lives = 0
        self.game_over = True

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = terminated or truncated
        lives = info[self.variable]
        if lives < self.lives:
            terminated = True
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs):
        if self.game_over:
            obs, info = self.env.reset(**kwargs)
        else:
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        if self.variable not in info:
            raise KeyError(
                f"LifeLossTermination needs the variable {self.variable!r} in the step info; "
                f"the scenario reads only {sorted(info)}. Add it to the scenario's \"info\" list."
            )
        self.lives = info[self.variable]
        self.game_over = False
        return obs, info
