"""What an :class:`~emurl.envs.EmulatorEnv`'s agent observes, by ``obs_type``:

- ``"rgb"``: the screen, uint8 (H, W, 3), cut to :func:`observed_region` (one DS screen,
  the scenario's crop), the max of the step's last two frames with ``max_pool``;
- ``"ram"``: all RAM blocks, uint8 (N,);
- ``"variables"``: every ``data.json`` variable in file order, float32 (V,), array
  variables flattened in place;
- ``"features"``: the integration's feature observation (``metadata.json``'s
  ``"features"``, :meth:`emurl.games.Integration.features`): a ``Dict`` of arrays, or the
  one array itself where the class declares a single space (the racing games' float32
  vector, :mod:`emurl.games.racing`); from each seat's own side, so with several players a
  tuple, one per seat. A class with ``needs_emulator = True`` (Mario Kart DS's wall rays
  read the course's collision data) is called ``observe(values, seat, emulator=...)``.
  An integration that declares none gets its variables scaled (:func:`scale_variables`):
  float32 (V,), like ``"variables"``, integers on a log scale.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from emurl.errors import IntegrationError
from emurl.games.variables import Variable, VariableReader

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


def unscaled_elements(variables: list[Variable]) -> np.ndarray:
    """Which elements of the ``"variables"`` vector are integers without a ``scale``: bool (V,),
    array variables repeated per element (see :func:`scale_variables`)."""
    out = []
    for v in variables:
        out += [v.scale is None] * (int(np.prod(v.shape)) if v.shape else 1)
    return np.array(out, bool)


def scale_variables(obs: np.ndarray, unscaled: np.ndarray) -> np.ndarray:
    """The ``"features"`` of an integration without a features class: ``obs`` (the
    ``"variables"`` vector, float32) with each integer ``x`` (``unscaled``) made
    ``sign(x) · log2(1 + |x|) / 8``, in place: a byte's 0..255 → 0..1, 3 lives → 0.25,
    a 32-bit score ≤ 4; small counts stay apart and no value dwarfs the others (a NEAT
    genome takes them as they are). Variables with a ``scale`` (fx32 px, ...) are kept.

    >>> scale_variables(np.array([255, 3, -1, 0.5], np.float32), np.array([1, 1, 1, 0], bool)).tolist()
    [1.0, 0.25, -0.125, 0.5]
    """
    x = obs[unscaled]
    obs[unscaled] = np.sign(x) * np.log2(1.0 + np.abs(x)) / 8.0
    return obs


class Observer:
    """Builds an env's observation space and its observations (see the module doc).

    Args:
        env: the env being set up (its ``obs_type``, ``emulator``, ``integration``,
            ``scenario``, ``screens``, ``players``).

    Raises:
        IntegrationError: the integration's features class is not what it should be.
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
        self.unscaled = None  # features of an integration without a class: its integers, to scale
        self.single = None  # the name of a features class's one space: its array is the observation
        self.with_emulator = bool(getattr(self.features, "needs_emulator", False))
        if self.kind == "rgb":
            self.space = gym.spaces.Box(0, 255, screen[self.crop].shape if self.crop else screen.shape, np.uint8)
        elif self.kind == "ram":
            self.space = gym.spaces.Box(0, 255, env.emulator.ram().shape, np.uint8)
        elif self.kind == "variables" or self.features is None:
            size = sum(int(np.prod(v.shape)) if v.shape else 1 for v in variables)
            self.space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)
            if self.kind == "features":
                self.unscaled = unscaled_elements(variables)
        else:
            boxes = {name: gym.spaces.Box(low, high, tuple(shape), np.dtype(dtype))
                     for name, (shape, dtype, low, high) in self.features.spaces.items()}
            if not boxes:
                raise IntegrationError(f"{env.integration.folder / 'metadata.json'}: features: "
                                       f"{type(self.features).__name__}.spaces is empty")
            if len(boxes) == 1:
                self.single, seat = next(iter(boxes.items()))
            else:
                seat = gym.spaces.Dict(boxes)
            self.space = seat if self.players == 1 else gym.spaces.Tuple([seat] * self.players)

    @property
    def per_seat(self) -> bool:
        """Whether each seat sees its own observation (a features class with several players)."""
        return self.kind == "features" and self.features is not None and self.players > 1

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
        if self.kind == "features" and self.features is not None:
            if self.players == 1:
                return self._seat(values, 0, emulator)
            return tuple(self._seat(values, seat, emulator) for seat in range(self.players))
        if self.arrays:
            obs = np.concatenate([np.ravel(np.asarray(values[n], np.float32)) for n in self.names])
        else:
            obs = np.array([values[n] for n in self.names], dtype=np.float32)
        return obs if self.unscaled is None else scale_variables(obs, self.unscaled)

    def _seat(self, values: dict, seat: int, emulator):
        obs = (self.features.observe(values, seat, emulator=emulator) if self.with_emulator
               else self.features.observe(values, seat))
        return obs[self.single] if self.single is not None else obs


__all__ = ["OBS_TYPES", "Observer", "observed_region", "scale_variables", "unscaled_elements"]
