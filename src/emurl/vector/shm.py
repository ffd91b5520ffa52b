"""SharedMemoryVecEnv: parallel envs, one worker process each, observations in shared memory.

The parent side: it starts the workers (:mod:`emurl.vector.worker`), sends them commands
through pipes and reads their observations from one ``SharedMemory`` block.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import pickle
import select
import signal
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
from emurl.vector.worker import dumps, run_worker

# How often (seconds) a parent waiting on a worker checks that the worker is still alive.
_POLL_INTERVAL = 0.5
# How long close() waits for a worker to exit by itself before terminating it.
_JOIN_TIMEOUT = 5.0


class _Resources:
    """Everything to free: worker processes, pipes, the shared block.

    Kept apart from the VecEnv so that a ``weakref.finalize`` can free them when the VecEnv
    is garbage-collected (or at interpreter exit) without keeping the VecEnv alive.
    """

    def __init__(self):
        self.processes: list = []
        self.remotes: list = []
        self.pollers: list = []  # per worker: select.poll on its pipe and its sentinel (cheaper than connection.wait)
        self.shm: SharedMemory | None = None
        self.obs: np.ndarray | None = None  # the parent's view of the shared block
        self.pending: set[int] = set()  # workers whose answer has not been read yet
        self.released = False

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        # Read answers still in flight, so that no worker is blocked writing to its pipe.
        for i in sorted(self.pending):
            remote, process = self.remotes[i], self.processes[i]
            try:
                ready = mp.connection.wait([remote, process.sentinel], timeout=_JOIN_TIMEOUT)
                if remote in ready:
                    remote.recv()
            except (EOFError, OSError):
                pass
        self.pending.clear()
        for remote in self.remotes:
            try:
                remote.send(("close", None))
            except (BrokenPipeError, OSError):
                pass  # already dead
        for process in self.processes:
            process.join(_JOIN_TIMEOUT)
            if process.is_alive():
                process.terminate()
                process.join(1.0)
            if process.is_alive():  # pragma: no cover
                process.kill()
                process.join()
        for remote in self.remotes:
            remote.close()
        self.obs = None  # drop the view, or shm.close() fails with BufferError
        if self.shm is not None:
            try:
                self.shm.close()
            except BufferError:  # pragma: no cover - someone holds a view
                pass
            try:
                self.shm.unlink()
            except FileNotFoundError:  # pragma: no cover
                pass


class SharedMemoryVecEnv(VecEnv):
    """Stable-Baselines3 ``VecEnv`` with one worker process per env and observations in shared memory.

    Works like ``SubprocVecEnv``: ``step`` auto-resets an env whose episode ended
    (terminated or truncated), puts the last observation of that episode in
    ``info["terminal_observation"]`` and sets ``info["TimeLimit.truncated"] =
    truncated and not terminated``; ``reset`` uses the seeds from :meth:`seed` and the
    options from :meth:`set_options` once.

    Observations go through one ``SharedMemory`` block, an array of shape
    ``(num_envs,) + observation_space.shape`` and the space's dtype, where each worker
    writes its own row; :meth:`reset` and :meth:`step_wait` return a copy of it.

    Args:
        env_fns: one callable per env, each returning a ``gym.Env`` (called in its
            worker, after cloudpickling, so a lambda or closure is fine). All envs must
            have the same observation space.
        start_method: a ``multiprocessing`` start method; default ``"forkserver"`` where
            available, else ``"spawn"``.

    Returns (``reset`` / ``step_wait``):
        obs: ``observation_space.dtype`` array, shape ``(num_envs,) + obs_shape``;
        rewards: float32 ``(num_envs,)``; dones: bool ``(num_envs,)``; infos: a list of
        ``num_envs`` dicts.

    Raises:
        ValueError: ``env_fns`` is empty, the observation space is not a
            ``gym.spaces.Box``, or the envs' observation spaces differ.
        RuntimeError: a worker raised (message names the env index and quotes the
            original error and its traceback) or died (message gives its exit code). An
            error in the env fn, ``reset`` or ``step`` closes the whole VecEnv; an error in
            ``env_method``, ``get_attr``, ``set_attr``, ``render`` leaves it running.
            Also raised by any call after :meth:`close`.
        AttributeError: ``get_attr`` / ``env_method`` of a name the env lacks.

    With ``forkserver``, the forkserver (if this starts it) preloads the worker's module, so
    that workers do not each import torch again (:func:`~emurl.emulators.process.mp_context`).
    Workers run :func:`~emurl.emulators.process.setup_worker_process`: one thread each and
    SIGINT ignored (Ctrl-C reaches the parent only, which can still :meth:`close` them). :meth:`close` is idempotent; if it is never called,
    garbage collection or interpreter exit frees the workers and the shared block.
    """

    def __init__(self, env_fns: list[Callable[[], gym.Env]], start_method: str | None = None):
        env_fns = list(env_fns)
        if not env_fns:
            raise ValueError("SharedMemoryVecEnv needs at least one env fn")
        self.waiting = False
        self.closed = False
        res = self._res = _Resources()
        self._finalizer = weakref.finalize(self, res.release)
        ctx = mp_context(start_method, preload=("emurl.vector.worker",))
        n = len(env_fns)
        try:
            for i in range(n):
                remote, work_remote = ctx.Pipe()
                # daemon: if the parent crashes, the workers do not outlive it
                process = ctx.Process(target=run_worker, args=(work_remote, remote, i), daemon=True,
                                      name=f"SharedMemoryVecEnv-worker-{i}")
                process.start()
                work_remote.close()
                res.remotes.append(remote)
                res.processes.append(process)
                poller = select.poll()
                poller.register(remote.fileno(), select.POLLIN)
                poller.register(process.sentinel, select.POLLIN)
                res.pollers.append(poller)
            # The env fns travel through the pipe, so that unpickling errors are reported.
            for i, env_fn in enumerate(env_fns):
                self._send(i, "init", CloudpickleWrapper(env_fn))
            spaces = self._gather(range(n), "building the env", fatal=True)
            observation_space, action_space = spaces[0]
            if not isinstance(observation_space, gym.spaces.Box):
                raise ValueError(
                    "SharedMemoryVecEnv needs a gym.spaces.Box observation space, got "
                    f"{observation_space!r}; use SB3's SubprocVecEnv for Dict/Tuple spaces"
                )
            for i, (space, _) in enumerate(spaces):
                if not isinstance(space, gym.spaces.Box) or space.shape != observation_space.shape \
                        or space.dtype != observation_space.dtype:
                    raise ValueError(f"env {i} has observation space {space!r}, env 0 has {observation_space!r}")
            shape = (n,) + tuple(observation_space.shape)
            dtype = np.dtype(observation_space.dtype)
            size = max(1, int(np.prod(shape)) * dtype.itemsize)
            res.shm = SharedMemory(create=True, size=size)
            res.obs = np.ndarray(shape, dtype=dtype, buffer=res.shm.buf)
            for i in range(n):
                self._send(i, "attach", (res.shm.name, shape, dtype))
            self._gather(range(n), "attaching the shared memory", fatal=True)
            super().__init__(n, observation_space, action_space)
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
        try:
            self._res.remotes[i].send_bytes(dumps((cmd, data)))
        except (BrokenPipeError, ConnectionResetError, EOFError):
            pass  # the worker is dead; _recv reports it with its exit code
        self._res.pending.add(i)

    def _recv(self, i: int) -> tuple:
        """The answer of worker ``i``: ("ok", x), ("error", text), ("attr_error", text) or ("dead", text)."""
        remote, process = self._res.remotes[i], self._res.processes[i]
        try:
            poller = self._res.pollers[i]  # a select.poll on the pipe and the process sentinel
            while True:
                ready = {fd for fd, _ in poller.poll(int(_POLL_INTERVAL * 1000))}
                if remote.fileno() in ready or remote.poll(0):
                    try:
                        return pickle.loads(remote.recv_bytes())
                    except (EOFError, ConnectionResetError, OSError):
                        break
                if process.sentinel in ready or not process.is_alive():
                    break
        finally:
            self._res.pending.discard(i)
        process.join(1.0)
        code = process.exitcode
        how = f"exit code {code}"
        if code is not None and code < 0:
            try:
                how += f", killed by {signal.Signals(-code).name}"
            except ValueError:  # pragma: no cover
                pass
        return ("dead", f"worker process (pid {process.pid}) died ({how})")

    def _gather(self, indices, what: str, fatal: bool) -> list:
        """Answers of the workers in ``indices`` (all of them read, even after an error)."""
        answers = [(i, self._recv(i)) for i in indices]
        for i, (status, payload) in answers:
            if status == "ok":
                continue
            if status == "attr_error" and not fatal:
                raise AttributeError(f"env {i}: {payload}")
            if fatal or status == "dead":
                self.close()
            raise RuntimeError(f"SharedMemoryVecEnv: env {i} failed while {what}: {payload}")
        return [payload for _, (_, payload) in answers]

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
        results = self._gather(range(self.num_envs), "stepping", fatal=True)
        rewards = np.array([r[0] for r in results], dtype=np.float32)
        dones = np.array([r[1] for r in results], dtype=bool)
        infos = [r[2] for r in results]
        for i, r in enumerate(results):
            if r[3] is not None:
                self.reset_infos[i] = r[3]
        return self._res.obs.copy(), rewards, dones, infos

    def reset(self) -> VecEnvObs:
        """Reset every env with the pending seeds and options (used once).

        Returns:
            A new array of shape ``(num_envs,) + obs_shape``; the reset infos are in
            :attr:`reset_infos`.
        """
        self._check_open()
        if self.waiting:
            raise RuntimeError("reset called between step_async and step_wait")
        for i in range(self.num_envs):
            self._send(i, "reset", (self._seeds[i], self._options[i]))
        self.reset_infos = self._gather(range(self.num_envs), "resetting", fatal=True)
        self._reset_seeds()
        self._reset_options()
        return self._res.obs.copy()

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
        self._idle_call()
        for i in range(self.num_envs):
            self._send(i, "render", None)
        return self._gather(range(self.num_envs), "rendering", fatal=False)

    def _idle_call(self) -> None:
        self._check_open()
        if self.waiting:
            raise RuntimeError("call step_wait() before talking to the envs again")

    def has_attr(self, attr_name: str) -> bool:
        """Whether every env has ``attr_name`` (looked up through the wrappers)."""
        self._idle_call()
        for i in range(self.num_envs):
            self._send(i, "has_attr", attr_name)
        return all(self._gather(range(self.num_envs), f"looking up {attr_name!r}", fatal=False))

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """``env.get_wrapper_attr(attr_name)`` of each env in ``indices``.

        Raises:
            AttributeError: an env has no such attribute.
        """
        self._idle_call()
        idx = list(self._get_indices(indices))
        for i in idx:
            self._send(i, "get_attr", attr_name)
        return self._gather(idx, f"getting {attr_name!r}", fatal=False)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """``setattr(env, attr_name, value)`` on the outer wrapper of each env in ``indices``."""
        self._idle_call()
        idx = list(self._get_indices(indices))
        for i in idx:
            self._send(i, "set_attr", (attr_name, value))
        self._gather(idx, f"setting {attr_name!r}", fatal=False)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        """Call ``method_name(*method_args, **method_kwargs)`` of each env in ``indices``; their results."""
        self._idle_call()
        idx = list(self._get_indices(indices))
        for i in idx:
            self._send(i, "env_method", (method_name, method_args, method_kwargs))
        return self._gather(idx, f"calling {method_name!r}", fatal=False)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """Whether each env in ``indices`` is wrapped in ``wrapper_class``."""
        self._idle_call()
        idx = list(self._get_indices(indices))
        for i in idx:
            self._send(i, "is_wrapped", wrapper_class)
        return self._gather(idx, "checking wrappers", fatal=False)


__all__ = ["SharedMemoryVecEnv"]
