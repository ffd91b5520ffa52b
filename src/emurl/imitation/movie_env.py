"""The env that replays an input movie, and the steps it yields: the (observation, action)
pairs of a dataset; and the way back, a policy's rollout as a movie.

Frame alignment. A movie's ``buttons[i]`` is held during frame ``i`` after its start
state is loaded (:mod:`emurl.movies.movie`). The env's ``reset()`` loads the start state
and runs one frame, and each step runs ``frame_skip`` frames. So frame 0 is the reset
frame, and agent step ``k`` covers movie frames ``1 + k*skip`` to ``(k + 1)*skip``;
leftover frames at the end (fewer than ``skip``) are dropped. The movie drives the
emulator itself (:class:`~emurl.movies.replay.MovieInput`, put between the env and its
emulator with :meth:`~emurl.envs.EmulatorEnv.wrap_emulator`): every frame, the reset
frame included, runs with the buttons the movie holds on it, so the dataset's
observations are made from exactly the screens :func:`emurl.movies.replay.replay` yields
(observation ``k`` ends on replay's frame ``k*skip``), even where a step's frames press
different buttons. Each step is labelled by :mod:`emurl.imitation.labels`.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import gymnasium as gym
import numpy as np

from emurl.emulators import BACKENDS
from emurl.envs import EnvSpec, build_env
from emurl.games.integration import sha1_of_rom
from emurl.imitation.datasets import DatasetError
from emurl.imitation.labels import action_table, step_action
from emurl.movies import Movie
from emurl.movies.replay import MovieInput, start_state_bytes

PIPELINES = ("atari", "none")
"""A dataset's observations: ``"atari"`` (the spec's crop, screen size, frame stack) or
``"none"`` (the EmulatorEnv's own)."""


class Step(NamedTuple):
    """One agent step of a movie replayed through an env (see :func:`movie_steps`)."""

    obs: np.ndarray
    """the observation before the step (the pipeline's, e.g. uint8 (4, 84, 84))"""
    action: int
    """the label: index of the nearest combo"""
    reward: float
    """the env's reward for the step (raw scenario reward when built by :func:`make_movie_env`)"""
    terminated: bool
    """the scenario ended the episode on this step"""
    truncated: bool
    """True on the last step of the movie when the scenario did not end it"""
    info: dict
    """the scenario's variables after the step"""
    frame: int
    """movie frame on which the step starts"""
    unmatched_frames: int
    """frames of the step whose buttons equal no combo"""
    mixed: bool
    """some frame of the step presses other buttons than the label's"""


def movie_env_spec(movie: Movie, spec: EnvSpec, pipeline: str = "atari", backend: str | None = None,
                   game_path=None) -> EnvSpec:
    """The :class:`~emurl.envs.EnvSpec` of the env that replays ``movie``: ``spec``'s
    observations and actions (scenario, obs_type, action set, frame skip, max-pool, screens,
    and with ``pipeline="atari"`` its crop, screen size and frame stack), the movie's game
    and (named) start state, no no-ops, no time limit, no life-loss ending, no start-state
    draw, raw rewards.

    Args:
        movie: a :class:`~emurl.movies.Movie` with ``game`` set.
        spec: the env settings (e.g. :func:`emurl.envs.settings.env_settings` of the game).
        pipeline: one of :data:`PIPELINES`.
        backend: emulator backend (default: the movie's, else ``spec``'s, else the system's).
        game_path: extra integration folders (default: ``spec``'s).

    Raises:
        DatasetError: the movie names no game, or an unknown pipeline.
    """
    if not movie.game:
        raise DatasetError("the movie names no game integration (emurl needs one to build its env)")
    if pipeline not in PIPELINES:
        raise DatasetError(f"pipeline must be one of {', '.join(PIPELINES)}, got {pipeline!r}")
    return spec.replace(
        game=movie.game,
        state=movie.start_state if isinstance(movie.start_state, str) else None,
        start_states=None, noop_max=0, max_episode_steps=None, terminal_on_life_loss=False,
        clip_reward=False, episode_statistics=False, pipeline="atari" if pipeline == "atari" else None,
        backend=backend or (movie.backend if movie.backend in BACKENDS else None) or spec.backend,
        game_path=game_path or spec.game_path,
    )


def make_movie_env(movie: Movie, spec: EnvSpec, pipeline: str = "atari", backend: str | None = None,
                   game_path=None) -> gym.Env:
    """The env that replays ``movie``: :func:`~emurl.envs.build_env` of
    :func:`movie_env_spec`, with a :class:`~emurl.movies.replay.MovieInput` between it and
    its emulator (so its observations follow the movie whatever action it is given).

    Raises:
        DatasetError: the movie names no game, or an unknown pipeline.
        MovieError: the movie holds buttons or touch the emulator lacks.
        UnknownGameError, RomNotFoundError, UnknownStateError: from the integration.
    """
    env_spec = movie_env_spec(movie, spec, pipeline, backend, game_path)
    env = build_env(env_spec)
    try:
        base = env.unwrapped
        start = start_state_bytes(movie, base.emulator.backend, env_spec.game_path)
        base.wrap_emulator(lambda emulator: MovieInput(emulator, movie, start))
    except BaseException:
        env.close()
        raise
    return env


def movie_steps(env, movie) -> Iterator[Step]:
    """Replay ``movie`` through ``env`` (made by :func:`make_movie_env`), one :class:`Step`
    per agent step, until the movie's frames run out or the scenario ends the episode.

    ``(movie.frames - 1) // frame_skip`` steps at most (see the module doc on alignment).

    Raises:
        DatasetError: ``env``'s emulator is not a :class:`MovieInput`, or its action set is
            not ``Discrete``.
    """
    base = env.unwrapped
    drive = base.emulator
    if not isinstance(drive, MovieInput):
        raise DatasetError("movie_steps needs an env made by make_movie_env (its emulator follows the movie)")
    table = action_table(env)
    skip = base.frame_skip
    n = max(0, (movie.frames - 1) // skip)
    obs, _ = env.reset()
    for k in range(n):
        f0 = 1 + k * skip
        action, unmatched, mixed = step_action(drive.pads[f0:f0 + skip, 0], table)
        nxt, reward, terminated, truncated, info = env.step(action)
        last = k == n - 1
        yield Step(obs, action, float(reward), bool(terminated), bool(truncated or (last and not terminated)),
                   info, f0, unmatched, mixed)
        if terminated or truncated:
            break
        obs = nxt


def rollout_movie(env, policy, max_steps: int, *, seed: int | None = None) -> tuple[object, float]:
    """Run ``policy`` for one episode in ``env`` and return the movie of its inputs.

    This turns a scripted or trained agent's rollout into demonstrations: the movie
    starts from the env's start state, holds nothing on the reset frame (as ``reset()``
    does) and then each action's buttons for ``frame_skip`` frames, so that
    :func:`~emurl.imitation.record.record_dataset` gives back the same observations and actions.

    Args:
        env: an :class:`~emurl.envs.EmulatorEnv`, possibly wrapped, with ``noop_max=0``
            and a ``Discrete`` action set; its own observations go to ``policy``.
        policy: ``policy(observation, info) → action`` (an int).
        max_steps: agent steps at most; the episode also ends when the scenario ends it.
        seed: passed to ``env.reset``.

    Returns:
        ``(movie, episode_return)``: a :class:`~emurl.movies.Movie` with the game, ROM
        SHA-1, backend and start state (by name when the env has one, else its bytes),
        and the sum of the env's rewards.

    Raises:
        DatasetError: the env adds no-op frames at reset (the movie could not say how many).
    """
    base = env.unwrapped
    if base.noop_max:
        raise DatasetError("rollout_movie needs an env with noop_max=0 (random no-op frames at reset are not recorded)")
    skip = base.frame_skip
    obs, info = env.reset(seed=seed)
    rows = [np.zeros(len(base.buttons), np.uint8)]
    total = 0.0
    for _ in range(int(max_steps)):
        action = policy(obs, info)
        rows += [np.asarray(base.buttons_for(action), np.uint8)] * skip
        obs, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        if terminated or truncated:
            break
    emu = base.emulator
    movie = Movie(
        game=base.game, system=base.integration.system, button_names=[b or "" for b in base.buttons],
        buttons=np.stack(rows)[:, None, :], rom_sha1=sha1_of_rom(base.integration.require_rom()),
        backend=emu.backend, core=getattr(emu, "core", None),
        start_state=base.state_name if base.state_name else None, frame_rate=float(emu.frame_rate),
        metadata={"recorded_by": "emurl.imitation.movie_env.rollout_movie", "return": total},
    )
    return movie, total


__all__ = ["PIPELINES", "Step", "make_movie_env", "movie_env_spec", "movie_steps", "rollout_movie"]
