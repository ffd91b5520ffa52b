"""Shared-memory frames for watching: each worker publishes its screen and overlay data.

- A worker: ``env = publish_frames(env, index)`` wraps its env in :class:`PublishFrames`,
  which publishes as ``emurl-frames-<job>-<index>`` when ``$EMURL_FRAMES_JOB`` (or
  ``job=``) names a job, while a viewer watches; it costs nothing otherwise.
  :class:`FramePublisher` is the block itself, for a process without an env.
- A viewer: :func:`list_publishers` finds the blocks, :class:`FrameReader` reads one:
  ``FrameReader(name).read() -> (frame, overlay, seq)``.

The blocks' layout, the seqlock that keeps a reader from a torn frame, and their lifetime
(unlinked on close, at exit, and when found with their process gone) are described in
:mod:`emurl.vector.frameblock`.
"""

from __future__ import annotations

import os
import time

import gymnasium as gym

from emurl.errors import ConfigError
from emurl.games.variables import VariableReader
from emurl.vector.frameblock import (
    FramePublisher,
    FrameReader,
    PublisherInfo,
    frame_name,
    list_publishers,
)

MAX_FPS = 30.0
"""Publishes per second at most while watched (:class:`PublishFrames`): the viewer's pace."""


INFO_KEYS = ("landing",)
"""What a step's info holds that a game's overlay draws, published as it is: ``landing``,
where a placement agent's chosen placement locks (:class:`emurl.wrappers.placement.PlacementActions`)."""


class PublishFrames(gym.Wrapper):
    """Publish an env's screen and overlay at every step while a viewer watches.

    Args:
        env: any env with ``render_mode="rgb_array"`` (emurl's default; else ConfigError).
        name: the block's name (:func:`frame_name`).
        overlay: optional ``overlay(env, observation, info) -> dict`` of extra data (rays'
            hit points, the checkpoint direction, a genome id, ...), called only when
            publishing.
        max_fps: publishes per second at most while watched (a viewer draws 30 a second;
            a worker steps hundreds of times a second, and publishing every step cost it
            6-14% of its CPU time, at 30 a second 0.4-0.6%: benchmarks/bench_watch.py).

    The overlay always holds ``episode`` (episodes begun, from 1), ``step`` (agent steps in
    it), ``return`` (rewards summed so far, float) and ``buttons`` (the names the last action
    pressed, where the env is an :class:`~emurl.envs.EmulatorEnv`); for a game whose features
    class has ``overlay(values, emulator)`` (MiniKart: ``kart`` [x, y, heading], ``rays`` (each ray's
    end), ``checkpoint`` (the next line's ends), in track px) those too; then ``extra``, a
    dict the caller fills between steps (``wrapper.extra["genome"] = key``,
    ``wrapper.extra["fitness"] = f``). Unwatched, a step costs one clock read and a few
    additions.
    """

    def __init__(self, env: gym.Env, name: str, overlay=None, max_fps: float = MAX_FPS):
        super().__init__(env)
        self.overlay_fn = overlay
        self.interval = 1.0 / max_fps
        self._next = 0.0  # time.monotonic() of the next publish allowed
        self._last: tuple = (None, {})  # the last step's observation and info (flush publishes them)
        self.extra: dict = {}  # the caller's own overlay items (a genome id, its fitness), sent as they are
        self.episode = 0
        self.steps = 0
        self.total = 0.0
        self.buttons: list[str] = []
        self.game_overlay = None  # (features with overlay(values, emulator), a reader of every variable)
        integration = getattr(env.unwrapped, "integration", None)
        features = integration.features() if integration is not None else None
        if callable(getattr(features, "overlay", None)):
            self.game_overlay = (features, VariableReader(list(integration.variables.values())))
        frame = env.render()
        if frame is None:
            raise ConfigError(f"PublishFrames({name!r}) needs an env made with render_mode='rgb_array'")
        self.publisher = FramePublisher(name, frame.shape)
        self.publisher.publish(frame, {"episode": 0, "step": 0, "return": 0.0})  # visible before the first watch

    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        self._last = (observation, info)
        self.episode += 1
        self.steps, self.total, self.buttons = 0, 0.0, []
        self._publish(observation, info)
        return observation, info

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._last = (observation, info)
        self.steps += 1
        self.total += float(reward)
        if self.publisher.watched and (terminated or truncated or time.monotonic() >= self._next):
            meaning = getattr(self.env.unwrapped, "action_meaning", None)
            self.buttons = list(meaning(action)) if meaning else []
            self._publish(observation, info)
        return observation, reward, terminated, truncated, info

    def flush(self) -> None:
        """Publish the screen now, whatever the rate cap (if watched): e.g. an episode's last
        frame, when something outside this wrapper ended it."""
        self._publish(*self._last)

    def _publish(self, observation, info) -> None:
        if not self.publisher.watched:
            return
        self._next = time.monotonic() + self.interval
        data = {"game": getattr(self.env.unwrapped, "game", None), "episode": self.episode, "step": self.steps,
                "return": self.total, "buttons": self.buttons}
        if self.game_overlay is not None:
            features, reader = self.game_overlay
            emulator = self.env.unwrapped.emulator
            values = reader(emulator)
            data.update(features.overlay(values, emulator))  # the emulator: for what variables don't hold (geometry)
            data["variables"] = values  # the viewer's variables table
        for key in INFO_KEYS:
            if key in info:
                data[key] = info[key]
        if self.overlay_fn is not None:
            data.update(self.overlay_fn(self.env, observation, info))
        data.update(self.extra)
        self.publisher.publish(self.env.render(), data)

    def close(self):
        self.publisher.close()
        super().close()


JOB_ENV = "EMURL_FRAMES_JOB"
"""The environment variable that names the job whose workers publish (:func:`publish_frames`)."""


def publish_frames(env: gym.Env, worker: str | int, job: str | None = None, overlay=None,
                   max_fps: float = MAX_FPS) -> gym.Env:
    """``env`` wrapped in :class:`PublishFrames` as ``frame_name(job, worker)`` when a job is
    given (or set in ``$EMURL_FRAMES_JOB``), else ``env`` itself: the one line a worker
    process needs (``env = publish_frames(env, index)``)."""
    job = job if job is not None else os.environ.get(JOB_ENV)
    if not job:
        return env
    return PublishFrames(env, frame_name(job, worker), overlay=overlay, max_fps=max_fps)


__all__ = ["INFO_KEYS", "JOB_ENV", "MAX_FPS", "FramePublisher", "FrameReader", "PublishFrames", "PublisherInfo", "frame_name",
           "list_publishers", "publish_frames"]
