"""What an :class:`~emurl.envs.EmulatorEnv`'s agent observes, by ``obs_type``:

- ``"rgb"``: the screen, uint8 (H, W, 3), cut to :func:`observed_region` (one DS screen,
  the scenario's crop), the max of the step's last two frames with ``max_pool``;
- ``"ram"``: all RAM blocks, uint8 (N,);
- ``"variables"``: every ``data.json`` variable in file order, float32 (V,), array
  variables flattened in place;
- ``"features"``: the integration's feature observation (``metadata.json``'s
  ``"features"``, :meth:`emurl.games.Integration.features`), a ``Dict`` of arrays; from
  each seat's own side, so with several players a tuple, one per seat.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from emurl.errors import IntegrationError
from emurl.games.variables import VariableReader

OBS_TYPES = ("rgb", "ram", "variables", "features")  # the one list: emurl.envs re-exports it


def observed_region(height: int, width: int, screens: str | None, stacked: bool,
                    crop: tuple[int, int, int, int] | None) -> tuple[slice, slice] | None:
    """(rows, columns) of the screen the observation keeps; None for all of it.

    Args:
        height, width: the emulator's screen, pixels.
        screens: Nintendo DS ``"top"`` / ``"bottom"`` (of two screens stacked when
            ``stacked``), ``"both"`` or None.
        crop: the scenario's ``[x, y, width, height]`` within the chosen screen; a width or
            height of 0, or one past the edge, runs to the edge.
    """
    region = None
    y0 = 0
    if screens in ("top", "bottom") and stacked:
        height //= 2
        y0 = height if screens == "bottom" else 0
        region = (slice(y0, y0 + height), slice(0, width))
    if crop is not None:
        x, y, w, h = crop
        w = width - x if not w or x + w > width else w
        h = height - y if not h or y + h > height else h
        region = (slice(y0 + y, y0 + y + h), slice(x, x + w))
    return region


class Observer:
    """Builds an env's observation space and its observations (see the module doc).

    Args:
        env: the env being set up (its ``obs_type``, ``emulator``, ``integration``,
            ``scenario``, ``screens``, ``players``).

    Raises:
        IntegrationError: ``"features"`` for an integration that declares none.
    """

    def __init__(self, env):
        self.env = env  # its emulator is read at each call: wrap_emulator may put a wrapper there
        self.kind = env.obs_type
        self.players = env.players
        screen = env.emulator.screen()
        self.last_screen: np.ndarray | None = screen
        self.crop = observed_region(*screen.shape[:2], env.screens, getattr(env.emulator, "stacked", True),
                                    env.scenario.crop)
        variables = list(env.integration.variables.values())
        self.reader = VariableReader(variables)
        self.names = [v.name for v in variables]  # data.json order, whoever read them
        # the env's own read holds every variable (Python scenarios): use it, don't read twice
        self.step_values = set(v.name for v in env._needed) == set(v.name for v in variables)
        self.arrays = any(v.shape for v in variables)
        self.features = env.integration.features() if self.kind == "features" else None
        if self.kind == "rgb":
            self.space = gym.spaces.Box(0, 255, screen[self.crop].shape if self.crop else screen.shape, np.uint8)
        elif self.kind == "ram":
            self.space = gym.spaces.Box(0, 255, env.emulator.ram().shape, np.uint8)
        elif self.kind == "variables":
            size = sum(int(np.prod(v.shape)) if v.shape else 1 for v in variables)
            self.space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)
        else:
            if self.features is None:
                raise IntegrationError(f"{env.integration.name}: obs_type='features' needs \"features\" in "
                                       f"{env.integration.folder / 'metadata.json'}; it declares none")
            seat = gym.spaces.Dict({name: gym.spaces.Box(low, high, tuple(shape), np.dtype(dtype))
                                    for name, (shape, dtype, low, high) in self.features.spaces.items()})
            self.space = seat if self.players == 1 else gym.spaces.Tuple([seat] * self.players)

    @property
    def per_seat(self) -> bool:
        """Whether each seat sees its own observation (features with several players)."""
        return self.kind == "features" and self.players > 1

    def __call__(self, prev_screen: np.ndarray | None = None, values: dict | None = None):
        """The observation now; ``prev_screen`` (rgb) is max-pooled into it; ``values``: the
        variables the env read at this moment (used where they are all of them)."""
        emulator = self.env.emulator
        if self.kind == "rgb":
            screen = emulator.screen()
            self.last_screen = screen
            crop = self.crop
            obs = screen[crop] if crop else screen
            if prev_screen is not None:  # max-pool only what is observed (one DS screen of two)
                obs = np.maximum(obs, prev_screen[crop] if crop else prev_screen)
            return obs
        self.last_screen = None
        if self.kind == "ram":
            return emulator.ram()
        if values is None or not self.step_values:
            values = self.reader(emulator)
        if self.kind == "features":
            if self.players == 1:
                return self.features.observe(values, 0)
            return tuple(self.features.observe(values, seat) for seat in range(self.players))
        if self.arrays:
            return np.concatenate([np.ravel(np.asarray(values[n], np.float32)) for n in self.names])
        return np.array([values[n] for n in self.names], dtype=np.float32)


__all__ = ["OBS_TYPES", "Observer", "observed_region"]
