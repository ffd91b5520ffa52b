"""SharedMemoryVecEnv: parallel envs, one worker process each, observations in shared memory.

The parent side: it starts the workers (:mod:`emurl.vector.worker`), sends them commands
through pipes and reads their observations from one ``SharedMemory`` block.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import (
    CloudpickleWrapper,
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from emurl.emulators.process import mp_context
from emurl.errors import WorkerError
from emurl.vector.faults import RestartBudget, WorkerRestartWarning, dead_worker_error, error_from_worker, game_of
from emurl.vector.pool import WorkerPool


def _stack(observations: list, space: gym.Space):
    """One batch from each env's observation: arrays stacked on a new first axis (per key of a ``Dict``)."""
    if isinstance(space, gym.spaces.Dict):
        return {key: np.stack([o[key] for o in observations]) for key in space.spaces}
    if isinstance(space, gym.spaces.Tuple):
        return tuple(np.stack([o[k] for o in observations]) for k in range(len(space.spaces)))
    return np.stack(observations)


def _row(batch, i: int):
    """Env ``i``'s observation (a copy) from a batch of :func:`_stack`'s shape."""
    if isinstance(batch, dict):
        return {key: value[i].copy() for key, value in batch.items()}
    if isinstance(batch, tuple):
        return tuple(value[i].copy() for value in batch)
    return batch[i].copy()


class SharedMemoryVecEnv(VecEnv):
    """Stable-Baselines3 ``VecEnv`` with one worker process per env and observations in shared memory.

    Works like ``SubprocVecEnv``: ``step`` auto-resets an env whose episode ended
    (terminated or truncated), puts the last observation of that episode in
    ``info["terminal_observation"]`` and sets ``info["TimeLimit.truncated"] =
    truncated and not terminated``; ``reset`` uses the seeds from :meth:`seed` and the
    options from :meth:`set_options` once.

    Observations go through one ``SharedMemory`` block, an array of shape
    ``(num_envs,) + observation_space.shape`` and the space's dtype, where each worker
    writes its own row; :meth:`reset` and :meth:`step_wait` return a copy of it. With
    ``shared_memory=False`` they are pickled through the pipes instead, for any space
    (``Dict`` ones: a dict of arrays with a first axis of ``num_envs``).

    A worker that dies once the vector env runs (SIGKILL from the OOM killer, a crash in
    an emulator core) is started again from its env fn, its env back at its start state
    (unseeded): that step reports the env's episode as ended by truncation (``dones[i]``
    True, ``info["TimeLimit.truncated"]`` True, ``info["worker_restarted"]`` True,
    ``info["terminal_observation"]`` the env's last observation before the death, reward
    0) and its row holds the new episode's first observation. Each restart warns
    (:class:`~emurl.vector.faults.WorkerRestartWarning`) and adds one to
    :attr:`worker_restarts`. A death during ``reset`` restarts the worker with that
    reset's seed; during another call (``get_attr``, ...) the call is asked again of the
    new worker and the next ``step`` reports the episode end.

    Args:
        env_fns: one callable per env, each returning a ``gym.Env`` (called in its
            worker, after cloudpickling, so a lambda or closure is fine). All envs must
            have the same observation space.
        start_method: a ``multiprocessing`` start method; default ``"forkserver"`` where
            available, else ``"spawn"``.
        max_restarts: worker restarts allowed within ``restart_window`` (0: none).
        restart_window: the window, in vector steps (calls of :meth:`step`).
        shared_memory: False: observations through the pipes (e.g. ``Dict`` spaces).

    Returns (``reset`` / ``step_wait``):
        obs: ``observation_space.dtype`` array, shape ``(num_envs,) + obs_shape``;
        rewards: float32 ``(num_envs,)``; dones: bool ``(num_envs,)``; infos: a list of
        ``num_envs`` dicts.

    Raises:
        ValueError: ``env_fns`` is empty, the observation space is not a
            ``gym.spaces.Box`` (with ``shared_memory``), or the envs' observation spaces differ.
        EmurlError: a worker raised one (e.g. ``UnknownStateError`` while building its env):
            the same class and message as in this process.
        WorkerError: a worker raised another exception (the message names the env index,
            the game and the original error; ``exc.worker_traceback`` is the worker's
            traceback), died while the vector env started, or died once more than
            ``max_restarts`` times within ``restart_window`` steps. An error in the env
            fn, ``reset`` or ``step``, or too many deaths, close the whole VecEnv; an
            error in ``env_method``, ``get_attr``, ``set_attr``, ``render`` leaves it running.
        RuntimeError: any call after :meth:`close`.
        AttributeError: ``get_attr`` / ``env_method`` of a name the env lacks.

    With ``forkserver``, the forkserver (if this starts it) preloads the worker's module, so
    that workers do not each import torch again (:func:`~emurl.emulators.process.mp_context`).
    Workers run :func:`~emurl.emulators.process.setup_worker_process`: one thread each and
    SIGINT ignored (Ctrl-C reaches the parent only, which can still :meth:`close` them).
    :meth:`close` is idempotent (also after a worker died); if it is never called, garbage
    collection or interpreter exit frees the workers and the shared block.
    """

    def __init__(self, env_fns: list[Callable[[], gym.Env]], start_method: str | None = None,
                 max_restarts: int = 3, restart_window: int = 1000, shared_memory: bool = True):
        env_fns = list(env_fns)
        if not env_fns:
            raise ValueError("SharedMemoryVecEnv needs at least one env fn")
        self.waiting = False
        self.closed = False
        self.worker_restarts = 0
        """How many times a dead worker was started again."""
        self._budget = RestartBudget(max_restarts, restart_window)
        self._running = False  # set once every worker is up: deaths before that are errors
        self._steps = 0  # calls of step_wait, the clock of the restart budget
        self._restarted: set[int] = set()  # restarted outside a step: the next step ends their episode
        self._env_fns = [CloudpickleWrapper(fn) for fn in env_fns]
        self._games = [game_of(fn) for fn in env_fns]
        self._last_obs = None  # the last observations returned (terminal_observation on a death)
        self._shared = bool(shared_memory)
        res = self._res = WorkerPool(mp_context(start_method, preload=("emurl.vector.worker",)))
        self._finalizer = weakref.finalize(self, res.release)
        n = len(env_fns)
        try:
            for i in range(n):
                res.start(i)
            # The env fns travel through the pipe, so that unpickling errors are reported.
            for i in range(n):
                self._send(i, "init", self._env_fns[i])
            spaces = self._gather(range(n), "building the env", fatal=True)
            observation_space, action_space = spaces[0][:2]
            if self._shared and not isinstance(observation_space, gym.spaces.Box):
                raise ValueError(
                    "SharedMemoryVecEnv needs a gym.spaces.Box observation space, got "
                    f"{observation_space!r}; pass shared_memory=False for Dict/Tuple spaces"
                )
            for i, (space, _, game) in enumerate(spaces):
                self._games[i] = self._games[i] or game
                same = space == observation_space if not self._shared else (
                    isinstance(space, gym.spaces.Box) and space.shape == observation_space.shape
                    and space.dtype == observation_space.dtype)
                if not same:
                    raise ValueError(f"env {i} has observation space {space!r}, env 0 has {observation_space!r}")
            if self._shared:
                shape = (n,) + tuple(observation_space.shape)
                dtype = np.dtype(observation_space.dtype)
                res.shm = SharedMemory(create=True, size=max(1, int(np.prod(shape)) * dtype.itemsize))
                res.obs = np.ndarray(shape, dtype=dtype, buffer=res.shm.buf)
                for i in range(n):
                    self._send(i, "attach", (res.shm.name, shape, dtype))
                self._gather(range(n), "attaching the shared memory", fatal=True)
                self._last_obs = np.zeros(shape, dtype)
            super().__init__(n, observation_space, action_space)
            self._running = True
        except BaseException:
            self.close()
            raise

    # -- plumbing ------------------------------------------------------------------------
    @property
    def processes(self) -> list:
        """The worker processes (``multiprocessing.Process``), one per env."""
        return self._res.processes

    @property
    def remotes(self) -> list:
        """The parent's ends of the pipes, one per env."""
        return self._res.remotes

    @property
    def shm_name(self) -> str | None:
        """Name of the shared-memory block (under ``/dev/shm`` on Linux); None if not made."""
        return self._res.shm.name if self._res.shm is not None else None

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("this SharedMemoryVecEnv is closed")

    def _send(self, i: int, cmd: str, data: Any) -> None:
        self._res.send(i, cmd, data)

    def _recv(self, i: int) -> tuple:
        return self._res.recv(i)

    def _raise(self, i: int, answer: tuple, what: str, fatal: bool) -> None:
        """Raise the error of worker ``i``'s failed ``answer`` (closing the VecEnv if ``fatal``)."""
        status, payload = answer
        if status == "attr_error" and not fatal:
            raise AttributeError(f"env {i}: {payload}")
        if fatal or status == "dead":
            self.close()
        if status == "dead":
            raise dead_worker_error(i, self._games[i], what, payload)
        raise error_from_worker(payload, i, self._games[i], what)

    def _answers(self, indices, what: str, fatal: bool, retry: tuple | None = None,
                 reset_args: list | None = None) -> dict[int, tuple]:
        """The answers of the workers in ``indices`` (all read, even after an error), raising the
        first error; dead workers are restarted once the VecEnv runs (reset with ``reset_args[i]``
        = (seed, options)) and left as ("dead", their reset answer), or asked ``retry`` = (cmd, data) again."""
        answers = {i: self._recv(i) for i in indices}
        for i, answer in answers.items():
            if answer[0] not in ("ok", "dead") or (answer[0] == "dead" and not self._running):
                self._raise(i, answer, what, fatal)
        for i, answer in answers.items():
            if answer[0] == "dead":
                reset_info = self._restart(i, answer[1], *(reset_args[i] if reset_args else (None, None)))
                answers[i] = ("dead", reset_info)
                if retry is not None:
                    self._restarted.add(i)
                    self._send(i, *retry)
                    answers[i] = self._recv(i)
                    if answers[i][0] != "ok":
                        self._raise(i, answers[i], what, fatal)
        return answers

    def _gather(self, indices, what: str, fatal: bool, retry: tuple | None = None,
                reset_args: list | None = None) -> list:
        """The payloads of the workers in ``indices``' answers (see :meth:`_answers`)."""
        return [payload for _, payload in self._answers(indices, what, fatal, retry, reset_args).values()]

    def _restart(self, i: int, why: str, seed: int | None = None, options: dict | None = None) -> tuple:
        """Start worker ``i`` again (it died: ``why``), build and reset its env; the reset's answer
        ``(reset_info, observation)`` (observation None: it is in the shared block).

        Raises:
            WorkerError: restarts beyond the budget (the VecEnv is closed).
            EmurlError, WorkerError: the env fn raised in the new worker (the VecEnv is closed).
        """
        label = f"env {i} ({self._games[i]})" if self._games[i] else f"env {i}"
        while True:
            if not self._budget.take(self._steps):
                self.close()
                raise WorkerError(f"{label}: {why}; {self._budget.exhausted_text()}")
            self.worker_restarts += 1
            warnings.warn(f"{label}: {why}; restarting it from its env's start state "
                          f"(restart {self.worker_restarts} of this vector env)", WorkerRestartWarning, stacklevel=2)
            self._res.start(i)
            steps = [("init", self._env_fns[i], "building the env"), ("reset", (seed, options), "resetting")]
            if self._shared:
                block = (self._res.shm.name, self._res.obs.shape, self._res.obs.dtype)
                steps.insert(1, ("attach", block, "attaching the shared memory"))
            for cmd, data, what in steps:
                self._send(i, cmd, data)
                status, payload = answer = self._recv(i)
                if status == "dead":
                    why = f"{payload} while {what} after a restart"
                    break
                if status != "ok":
                    self._raise(i, answer, f"{what} after a restart", fatal=True)
                if cmd == "init" and (payload[0] != self.observation_space or payload[1] != self.action_space):
                    self.close()
                    raise WorkerError(f"{label}: after a restart its env has spaces {payload[:2]!r}, "
                                      f"not {(self.observation_space, self.action_space)!r}")
            else:
                return payload

    # -- VecEnv API ----------------------------------------------------------------------
    def step_async(self, actions: np.ndarray) -> None:
        """Send one action per env (``actions``: sequence of length ``num_envs``)."""
        self._check_open()
        if self.waiting:
            raise RuntimeError("step_async called twice without step_wait")
        if len(actions) != self.num_envs:
            raise ValueError(f"expected {self.num_envs} actions, got {len(actions)}")
        for i, action in enumerate(actions):
            # a NumPy scalar pickles through its reducer, ~5x a Python int's cost
            self._send(i, "step", action.item() if isinstance(action, np.generic) else action)
        self.waiting = True

    def step_wait(self) -> VecEnvStepReturn:
        """Wait for the step of every env.

        Returns:
            ``(obs, rewards, dones, infos)``: obs a new array of shape
            ``(num_envs,) + obs_shape`` (after auto-reset where ``dones``), rewards float32
            ``(num_envs,)``, dones bool ``(num_envs,)``, infos a list of dicts.
        """
        self._check_open()
        if not self.waiting:
            raise RuntimeError("step_wait called without step_async")
        self.waiting = False
        self._steps += 1
        answers = self._answers(range(self.num_envs), "stepping", fatal=True)
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        dones = np.zeros(self.num_envs, dtype=bool)
        infos, observations = [], []
        for i, (status, payload) in answers.items():
            if status == "dead":  # restarted in this step: payload is its new episode's reset answer
                info, (reset_info, observation) = {}, payload
            else:
                rewards[i], dones[i], info, reset_info, observation = payload
            if status == "dead" or i in self._restarted:
                info["worker_restarted"] = True
                if not dones[i]:  # the old episode ends here, cut short
                    dones[i] = True
                    info["TimeLimit.truncated"] = True
                    if self._last_obs is not None:
                        info["terminal_observation"] = _row(self._last_obs, i)
            if reset_info is not None:
                self.reset_infos[i] = reset_info
            infos.append(info)
            observations.append(observation)
        self._restarted.clear()
        self._last_obs = self._res.obs.copy() if self._shared else _stack(observations, self.observation_space)
        return self._last_obs, rewards, dones, infos

    def reset(self) -> VecEnvObs:
        """Reset every env with the pending seeds and options (used once).

        Returns:
            A new array of shape ``(num_envs,) + obs_shape``; the reset infos are in
            :attr:`reset_infos`.
        """
        self._check_open()
        if self.waiting:
            raise RuntimeError("reset called between step_async and step_wait")
        reset_args = [(self._seeds[i], self._options[i]) for i in range(self.num_envs)]
        for i in range(self.num_envs):
            self._send(i, "reset", reset_args[i])
        answers = self._gather(range(self.num_envs), "resetting", fatal=True, reset_args=reset_args)
        self.reset_infos = [reset_info for reset_info, _ in answers]
        self._restarted.clear()  # a new episode everywhere
        self._reset_seeds()
        self._reset_options()
        observations = [observation for _, observation in answers]
        self._last_obs = self._res.obs.copy() if self._shared else _stack(observations, self.observation_space)
        return self._last_obs

    def close(self) -> None:
        """Stop the workers (closing their envs) and free the shared memory. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        self.waiting = False
        self._finalizer()  # runs _Resources.release once

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seeds ``seed + i`` for env ``i``, used at the next :meth:`reset` (see ``VecEnv.seed``)."""
        return super().seed(seed)

    def get_images(self) -> Sequence[np.ndarray | None]:
        """Each env's ``render()`` (uint8 (H, W, 3) with ``render_mode="rgb_array"``)."""
        self._check_open()
        if self.render_mode != "rgb_array":
            warnings.warn(
                f"The render mode is {self.render_mode}, but this method assumes it is `rgb_array` to obtain images."
            )
            return [None for _ in range(self.num_envs)]
        return self._ask(None, "render", None, "rendering")

    def _idle_call(self) -> None:
        self._check_open()
        if self.waiting:
            raise RuntimeError("call step_wait() before talking to the envs again")

    def _ask(self, indices: VecEnvIndices, cmd: str, data: Any, what: str) -> list:
        """Send ``(cmd, data)`` to the envs in ``indices`` between steps; their answers (a dead
        worker is restarted and asked again)."""
        self._idle_call()
        idx = list(self._get_indices(indices))
        for i in idx:
            self._send(i, cmd, data)
        return self._gather(idx, what, fatal=False, retry=(cmd, data))

    def has_attr(self, attr_name: str) -> bool:
        """Whether every env has ``attr_name`` (looked up through the wrappers)."""
        return all(self._ask(None, "has_attr", attr_name, f"looking up {attr_name!r}"))

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """``env.get_wrapper_attr(attr_name)`` of each env in ``indices``.

        Raises:
            AttributeError: an env has no such attribute.
        """
        return self._ask(indices, "get_attr", attr_name, f"getting {attr_name!r}")

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """``setattr(env, attr_name, value)`` on the outer wrapper of each env in ``indices``."""
        self._ask(indices, "set_attr", (attr_name, value), f"setting {attr_name!r}")

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        """Call ``method_name(*method_args, **method_kwargs)`` of each env in ``indices``; their results."""
        return self._ask(indices, "env_method", (method_name, method_args, method_kwargs), f"calling {method_name!r}")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """Whether each env in ``indices`` is wrapped in ``wrapper_class``."""
        return self._ask(indices, "is_wrapped", wrapper_class, "checking wrappers")


__all__ = ["SharedMemoryVecEnv", "WorkerRestartWarning"]
