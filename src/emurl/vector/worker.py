"""The loop of one :class:`~emurl.vector.shm.SharedMemoryVecEnv` worker process.

The parent sends ``(cmd, data)`` pickled (:func:`dumps`); the worker answers ``("ok",
payload)``, ``("error", details)`` (any exception, as
:func:`~emurl.vector.faults.error_payload`: the worker keeps serving) or, for a missing
attribute, ``("attr_error", text)``. ``"close"`` gets no answer. Observations do
not go through the pipe: the worker writes each into its row of the shared block once it
is ``"attach"``-ed to one; without a block (``Dict`` observations) they go in the answers
to ``"step"`` and ``"reset"`` (else None there).
"""

from __future__ import annotations

import pickle
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np
from stable_baselines3.common.env_util import is_wrapped
from stable_baselines3.common.vec_env.patch_gym import _patch_env

from emurl.emulators.process import setup_worker_process
from emurl.vector.frames import publish_frames
from emurl.vector.faults import error_payload


def dumps(message: Any) -> bytes:
    """Pickle a pipe message with plain ``pickle``.

    ``Connection.send`` builds a ``ForkingPickler`` (with its reducer table) per message,
    several times the cost of ``pickle.dumps`` for the small tuples sent every step; the
    bytes read the same on the other side (``Connection.recv`` is ``pickle.loads``).
    """
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def copy_observation(observation):
    """A copy of an observation: an array, or a dict / tuple of them (``Dict`` / ``Tuple`` spaces)."""
    if isinstance(observation, dict):
        return {key: copy_observation(value) for key, value in observation.items()}
    if isinstance(observation, tuple):
        return tuple(copy_observation(value) for value in observation)
    return np.array(observation)


def run_worker(remote, parent_remote, index: int) -> None:  # noqa: C901
    """Serve the parent's commands on ``remote`` until ``"close"`` or the parent is gone;
    ``index`` is this env's row of the shared observation array (see the module doc)."""
    setup_worker_process(ignore_interrupt=True)  # Ctrl-C: the parent decides (it closes us)
    parent_remote.close()
    env = None
    shm = None
    slot = None  # this worker's row of the shared observation array (a view)

    def send(message) -> None:
        remote.send_bytes(dumps(message))

    def put(observation):
        """Write ``observation`` into this worker's row (None to send), or return it to send
        (no shared block: observations that are not one array)."""
        if slot is None:
            return observation
        np.copyto(slot, observation)
        return None

    try:
        while True:
            try:
                cmd, data = pickle.loads(remote.recv_bytes())
            except (EOFError, OSError):
                break  # the parent is gone
            except Exception as exc:  # e.g. the env fn could not be unpickled here
                send(("error", error_payload(exc)))
                continue
            if cmd == "close":
                break
            try:
                if cmd == "step":
                    observation, reward, terminated, truncated, info = env.step(data)
                    done = bool(terminated or truncated)
                    info["TimeLimit.truncated"] = bool(truncated and not terminated)
                    reset_info = None
                    if done:
                        info["terminal_observation"] = copy_observation(observation)  # reset may reuse buffers
                        observation, reset_info = env.reset()
                    send(("ok", (float(reward), done, info, reset_info, put(observation))))
                elif cmd == "reset":
                    seed, options = data
                    maybe_options = {"options": options} if options else {}
                    observation, reset_info = env.reset(seed=seed, **maybe_options)
                    send(("ok", (reset_info, put(observation))))
                elif cmd == "init":
                    env = publish_frames(_patch_env(data.var()), index)  # only when a job is watched: $EMURL_FRAMES_JOB
                    game = getattr(env.unwrapped, "game", None)  # EmulatorEnv's; for error messages
                    send(("ok", (env.observation_space, env.action_space, game if isinstance(game, str) else None)))
                elif cmd == "attach":
                    name, shape, dtype = data
                    shm = SharedMemory(name=name)
                    slot = np.ndarray(shape, dtype=dtype, buffer=shm.buf)[index]
                    send(("ok", None))
                elif cmd == "render":
                    send(("ok", env.render()))
                elif cmd == "env_method":
                    name, args, kwargs = data
                    send(("ok", env.get_wrapper_attr(name)(*args, **kwargs)))
                elif cmd == "get_attr":
                    send(("ok", env.get_wrapper_attr(data)))
                elif cmd == "has_attr":
                    try:
                        env.get_wrapper_attr(data)
                        send(("ok", True))
                    except AttributeError:
                        send(("ok", False))
                elif cmd == "set_attr":
                    setattr(env, data[0], data[1])
                    send(("ok", None))
                elif cmd == "is_wrapped":
                    send(("ok", is_wrapped(env, data)))
                else:
                    raise NotImplementedError(f"`{cmd}` is not implemented in the worker")
            except AttributeError as exc:
                if cmd in ("get_attr", "env_method"):
                    send(("attr_error", str(exc)))
                else:
                    send(("error", error_payload(exc)))
            except (BrokenPipeError, ConnectionResetError):
                break
            except Exception as exc:
                send(("error", error_payload(exc)))
    except KeyboardInterrupt:  # pragma: no cover
        pass
    finally:
        slot = None  # drop the view, or shm.close() fails with BufferError
        if shm is not None:
            try:
                shm.close()
            except BufferError:  # pragma: no cover
                pass
        if env is not None:
            try:
                env.close()
            except Exception:  # pragma: no cover
                pass
        remote.close()
