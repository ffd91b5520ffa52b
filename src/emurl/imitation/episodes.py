"""Replaying an evaluation episode's movie through the env it was played in.

An episode recorded by ``emurl eval`` or a training run's evaluations
(:func:`emurl.train.evaluate.run_episodes`) is a :class:`~emurl.movies.Movie` whose
``metadata`` holds what the env needs to play it again:

==================  ===============================================================
``env``             the :class:`~emurl.envs.EnvSpec` of the evaluation env (``to_dict()``)
``seed``            the ``reset(seed=...)`` of the episode (no-ops, episode-start seed)
``return``          the sum of the env's rewards over the episode (float)
``length``          agent steps (int)
``final``           ``{"frames", "screen_sha1", "ram_sha1"}``: frames run since the start
                    state, and :func:`~emurl.movies.record.state_digest` at the end
==================  ===============================================================

:class:`EpisodeReplay` builds that env with the movie pressing the buttons
(:class:`~emurl.movies.replay.MovieInput` between the env and its emulator), resets it
with the episode's seed and steps it until the episode ends; the rewards are the
scenario's, so the return is recomputed, not read back. :func:`mismatches` then says
whether return, length, frames, screen and RAM are the recorded ones, bit for bit.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import gymnasium as gym
import numpy as np

from emurl.emulators import BACKENDS
from emurl.envs import EnvSpec, build_env
from emurl.errors import ConfigError, MovieError
from emurl.movies import Movie
from emurl.movies.record import state_digest
from emurl.movies.replay import MovieInput, start_state_bytes

EPISODE_KEYS = ("env", "seed", "return", "length")
"""The metadata keys that make a movie an evaluation episode (see the module doc)."""


class ReplayedEpisode(NamedTuple):
    """What replaying an episode's movie through its env gave."""

    episode_return: float
    """sum of the env's rewards (the scenario's, recomputed)"""
    length: int
    """agent steps until the episode ended (or the movie ran out)"""
    frames: int
    """emulator frames run from the movie's start state"""
    screen_sha1: str
    """SHA-1 of the last screen (uint8 (H, W, 3) bytes)"""
    ram_sha1: str
    """SHA-1 of all RAM at the end"""
    ended: bool
    """the env ended the episode (terminated or truncated) before the movie ran out"""


def is_episode(movie: Movie) -> bool:
    """Whether ``movie`` is an evaluation episode (its metadata holds :data:`EPISODE_KEYS`)."""
    return all(k in movie.metadata for k in EPISODE_KEYS)


def episode_spec(movie: Movie, backend: str | None = None, game_path: str | None = None) -> EnvSpec:
    """The env settings ``movie`` was played with (``metadata["env"]``), on ``backend`` (default:
    the movie's) and with ``game_path`` (default: the recorded one).

    Raises:
        MovieError: not an evaluation episode, or its env settings are not valid ones.
    """
    if not is_episode(movie):
        missing = [k for k in EPISODE_KEYS if k not in movie.metadata]
        raise MovieError(f"metadata: {', '.join(missing)} missing: not an evaluation episode's movie "
                         "(replay its frames with emurl.movies.replay.replay instead)")
    settings = movie.metadata["env"]
    if not isinstance(settings, dict):
        raise MovieError(f"metadata.env: expected the env settings as an object, got {type(settings).__name__}")
    try:
        spec = EnvSpec(**settings)
    except (TypeError, ConfigError) as exc:
        raise MovieError(f"metadata.env: not valid env settings ({exc})") from None
    chosen = backend or (movie.backend if movie.backend in BACKENDS else None)
    return spec.replace(backend=chosen or spec.backend, game_path=game_path or spec.game_path)


def _idle_action(space: gym.Space):
    """An action of ``space`` (its buttons are ignored: the movie presses them)."""
    if isinstance(space, gym.spaces.Discrete):
        return int(space.start)
    if isinstance(space, (gym.spaces.MultiBinary, gym.spaces.MultiDiscrete)):
        return np.zeros(space.shape, space.dtype)
    space.seed(0)
    return space.sample()


class EpisodeReplay:
    """An evaluation episode's movie played through its env (see the module doc).

    Iterate it for ``(observation, screen)`` after the reset and after each agent step
    (``screen``: the full screen, uint8 (H, W, 3), as the episode's video shows it);
    :attr:`result` is set when the iteration ends. Use it as a context manager, or call
    :meth:`close`: the env holds this process's one emulator.

    Args:
        movie: an evaluation episode (:func:`is_episode`).
        backend: emulator backend (default: the movie's).
        game_path: extra integration folders (default: the recorded env's).

    Raises:
        MovieError: not an evaluation episode; buttons or touch the emulator lacks.
        UnknownGameError, RomNotFoundError, UnknownStateError, ConfigError: building the env.
    """

    def __init__(self, movie: Movie, backend: str | None = None, game_path: str | None = None):
        self.movie = movie
        self.spec = episode_spec(movie, backend, game_path)
        seed = movie.metadata["seed"]
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise MovieError(f"metadata.seed: expected a whole number or null, got {seed!r}")
        self.seed = seed
        self.result: ReplayedEpisode | None = None
        self.env = build_env(self.spec)
        try:
            base = self.env.unwrapped
            start = start_state_bytes(movie, base.emulator.backend, self.spec.game_path)
            self.drive = base.wrap_emulator(lambda emulator: MovieInput(emulator, movie, start))
        except BaseException:
            self.env.close()
            raise

    @property
    def fps(self) -> float:
        """Agent steps per second at the game's speed (the frame rate over the frame skip)."""
        base = self.env.unwrapped
        return max(1.0, float(base.metadata.get("render_fps", 60)) / getattr(base, "frame_skip", 1))

    def __iter__(self) -> Iterator[tuple[object, np.ndarray | None]]:
        env, movie = self.env, self.movie
        obs, _ = env.reset(seed=self.seed)
        yield obs, env.render()
        action = _idle_action(env.action_space)
        total, length, ended = 0.0, 0, False
        while self.drive.frame < movie.frames:
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            length += 1
            yield obs, env.render()
            if terminated or truncated:
                ended = True
                break
        digest = state_digest(self.drive.unwrapped)
        self.result = ReplayedEpisode(total, length, int(self.drive.frame), digest["screen_sha1"],
                                      digest["ram_sha1"], ended)

    def close(self) -> None:
        self.env.close()

    def __enter__(self) -> "EpisodeReplay":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def replay_episode(movie: Movie, backend: str | None = None, game_path: str | None = None) -> ReplayedEpisode:
    """Play ``movie`` (an evaluation episode) through its env to the end; see :class:`EpisodeReplay`.

    Raises:
        as :class:`EpisodeReplay`.
    """
    with EpisodeReplay(movie, backend, game_path) as rep:
        for _ in rep:
            pass
    return rep.result


def mismatches(movie: Movie, result: ReplayedEpisode) -> list[str]:
    """What differs between the recorded episode (``movie.metadata``) and its replay: one
    line per difference (return, length, frames, screen, RAM); empty when it is the same, bit for bit."""
    meta = movie.metadata
    final = meta.get("final") or {}
    out = []
    if float(meta["return"]) != result.episode_return:
        out.append(f"return {result.episode_return!r}, recorded {float(meta['return'])!r}")
    if int(meta["length"]) != result.length:
        out.append(f"length {result.length} steps, recorded {meta['length']}")
    if not result.ended:
        out.append(f"the movie's {movie.frames} frames ran out before the episode ended")
    for key, got in (("frames", result.frames), ("screen_sha1", result.screen_sha1), ("ram_sha1", result.ram_sha1)):
        if key in final and final[key] != got:
            out.append(f"{key} {got}, recorded {final[key]}")
    return out


__all__ = ["EPISODE_KEYS", "EpisodeReplay", "ReplayedEpisode", "episode_spec", "is_episode", "mismatches",
           "replay_episode"]
