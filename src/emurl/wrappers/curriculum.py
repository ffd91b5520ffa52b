"""Curriculum over start states: each episode starts from a state drawn at random.

Several start states (several courses, or later points on one course: see
:func:`save_state_here`) drawn per episode, with weights that training may change as
it goes. Works on any env that takes ``reset(options={"state": NAME})``, as
:class:`~emurl.envs.emulator_env.EmulatorEnv` does, so it is not specific to Mario Kart DS.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from emurl.fileio import state_file_name, write_state


class StartStateCurriculum(gym.Wrapper):
    """Start each episode from a state drawn from ``states`` with probabilities ``weights``.

    Args:
        env: an env whose ``reset`` takes ``options={"state": NAME}`` (emurl's envs).
        states: state names of the env's game (see ``Integration.states()``), at least one.
        weights: non-negative, one per state, not all 0 (normalised here); None: uniform.
        seed: seed of the draw (``reset(seed=...)`` reseeds it too), so that a run's
            sequence of start states can be replayed.

    ``reset`` puts the drawn name in ``info["start_state"]``. An explicit
    ``reset(options={"state": NAME})`` wins over the draw.

    Raises:
        ValueError: no states, weights of another length, negative or all zero.

    >>> import emurl
    >>> env = StartStateCurriculum(emurl.make("MiniKart-NintendoDs"), ["Track0", "Track1"], [3, 1], seed=0)
    >>> env.reset()[1]["start_state"]
    'Track0'
    >>> env.close()
    """

    def __init__(self, env: gym.Env, states: Sequence[str], weights: Sequence[float] | None = None, seed: int | None = None):
        super().__init__(env)
        self.states = [str(s) for s in states]
        if not self.states:
            raise ValueError("StartStateCurriculum needs at least one state")
        self.set_weights(weights)
        self._rng = np.random.default_rng(seed)
        self.counts = dict.fromkeys(self.states, 0)
        self.current: str | None = None

    @property
    def probabilities(self) -> np.ndarray:
        """float64 (len(states),): the draw's probabilities, summing to 1."""
        return self._p.copy()

    def set_weights(self, weights: Sequence[float] | None) -> None:
        """Change the weights (e.g. more often the states the agent fails from).

        Raises:
            ValueError: as the constructor.
        """
        n = len(self.states)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
        if len(w) != n:
            raise ValueError(f"{len(w)} weights for {n} states; give one weight per state")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be finite, >= 0 and not all 0, got {list(w)}")
        self._p = w / w.sum()

    def sample(self) -> str:
        """Draw a state name (advances the draw's generator)."""
        return self.states[int(self._rng.choice(len(self.states), p=self._p))]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        options = dict(options or {})
        if not options.get("state"):
            options["state"] = self.sample()
        self.current = options["state"]
        self.counts[self.current] = self.counts.get(self.current, 0) + 1
        obs, info = self.env.reset(seed=seed, options=options)
        info = dict(info)
        info["start_state"] = self.current
        return obs, info


def save_state_here(env: gym.Env, name: str, folder: str | os.PathLike | None = None) -> Path:
    """Save the env's emulator state now as a start state ``name`` of its game.

    A way to build a curriculum of later points on a course: play (or replay a ghost) to a
    point, save it, and add its name to :class:`StartStateCurriculum`'s states.

    Args:
        env: an emurl env (``env.unwrapped`` has ``get_state()``, ``integration`` and
            ``emulator``).
        name: state name; the file is ``<name>.<backend>.state`` (gzip, as stable-retro's;
            :func:`emurl.fileio.state_file_name`), so that it loads only on the backend
            that made it (``<name>.state`` for an emulator that names no backend).
        folder: where to write (default: the game's user state folder).

    Returns:
        The written file (written atomically).
    """
    base = env.unwrapped
    folder = Path(folder) if folder is not None else base.integration.user_state_dir()
    backend = getattr(base.emulator, "backend", None) or None
    return write_state(folder / state_file_name(name, backend), base.get_state())


__all__ = ["StartStateCurriculum", "save_state_here"]
