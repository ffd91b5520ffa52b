"""What a vector env does when a worker process fails: its errors, deaths and restarts.

- A worker that *raises* (building, resetting or stepping its env) sends
  :func:`error_payload`; the parent turns it back into one exception with
  :func:`error_from_worker`: an emurl error is raised again as itself (same class, same
  message as ``emurl.make`` gives in-process), anything else as a
  :class:`~emurl.errors.WorkerError` naming the env index and the game. Either way the
  worker's traceback is kept in ``exc.worker_traceback`` and as a note (shown by Python's
  traceback printer, not by ``emurl``'s one-line ``emurl: error: ...``).
- A worker that *dies* (SIGKILL from the OOM killer, a crash in an emulator core) is
  restarted by the vector env; :class:`RestartBudget` says when deaths come too often to go on.
"""

from __future__ import annotations

import functools
import pickle
import signal
import traceback
from collections import deque

from emurl.envs import EnvSpec
from emurl.errors import EmurlError, WorkerError


class WorkerRestartWarning(RuntimeWarning):
    """A worker process died and was started again (its env back at its start state)."""


def error_payload(exc: BaseException) -> dict:
    """What a worker sends for an exception raised while serving a command (call it inside
    the ``except`` block, for the traceback): the exception pickled where it can be, its
    type's name, its message and the worker's formatted traceback."""
    try:
        blob = pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(blob)  # an exception whose __init__ takes other arguments unpickles badly
    except Exception:
        blob = None
    return {"exc": blob, "type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}


def _label(index: int, game: str | None) -> str:
    return f"env {index} ({game})" if game else f"env {index}"


def error_from_worker(payload: dict | str, index: int, game: str | None, what: str) -> Exception:
    """The exception the parent raises for a worker's ``("error", payload)`` answer.

    Args:
        payload: :func:`error_payload`'s dict (a str is taken as the message).
        index: the env's index in the vector env.
        game: the env's game, when known.
        what: what the parent asked, e.g. ``"stepping"``.

    Returns:
        The worker's own exception if it is an :class:`~emurl.errors.EmurlError`, else a
        :class:`~emurl.errors.WorkerError` ``"env <i> (<game>) failed while <what>: <Type>:
        <message>"``; with ``worker_index`` and ``worker_traceback`` attributes.
    """
    if isinstance(payload, str):
        payload = {"exc": None, "type": "Error", "message": payload, "traceback": ""}
    exc = None
    if payload.get("exc") is not None:
        try:
            exc = pickle.loads(payload["exc"])
        except Exception:  # pragma: no cover - checked by error_payload
            exc = None
    if not isinstance(exc, EmurlError):
        exc = WorkerError(f"{_label(index, game)} failed while {what}: {payload['type']}: {payload['message']}")
    exc.worker_index = index
    exc.worker_traceback = payload.get("traceback", "")
    if exc.worker_traceback:
        exc.add_note(f"in the worker process of env {index}:\n{exc.worker_traceback.rstrip()}")
    return exc


def death_text(process) -> str:
    """``"worker process (pid N) died (exit code -9, killed by SIGKILL)"`` for a dead process."""
    process.join(1.0)
    code = process.exitcode
    how = f"exit code {code}"
    if code is not None and code < 0:
        try:
            how += f", killed by {signal.Signals(-code).name}"
        except ValueError:  # pragma: no cover
            pass
    return f"worker process (pid {process.pid}) died ({how})"


def dead_worker_error(index: int, game: str | None, what: str, text: str) -> WorkerError:
    """The error for a worker that died where it is not restarted (while the vector env starts)."""
    return WorkerError(f"{_label(index, game)}: {text} while {what}")


def game_of(env_fn) -> str | None:
    """The game an env factory builds, where it says so (an :class:`~emurl.envs.EnvSpec` in a
    ``functools.partial``'s arguments, a ``spec``, a ``cfg.env`` or a ``game`` attribute); else None."""
    candidates = [env_fn, getattr(env_fn, "spec", None), getattr(getattr(env_fn, "cfg", None), "env", None)]
    if isinstance(env_fn, functools.partial):
        candidates += [*env_fn.args, *env_fn.keywords.values()]
    for obj in candidates:
        if isinstance(obj, EnvSpec):
            return obj.game
    game = getattr(env_fn, "game", None)
    return game if isinstance(game, str) else None


class RestartBudget:
    """At most ``max_restarts`` worker restarts within any ``window`` vector steps.

    Args:
        max_restarts: restarts allowed within a window (0: a dead worker is an error at once).
        window: the window's length in vector steps (calls of ``step``).

    Raises:
        ValueError: a negative ``max_restarts`` or a ``window`` below 1.
    """

    def __init__(self, max_restarts: int, window: int):
        if int(max_restarts) < 0 or int(window) < 1:
            raise ValueError(f"need max_restarts >= 0 and restart_window >= 1, got {max_restarts!r}, {window!r}")
        self.max_restarts, self.window = int(max_restarts), int(window)
        self.steps: deque[int] = deque()  # the vector step of each recent restart

    def take(self, step: int) -> bool:
        """Count a restart at vector step ``step``; False if that is one too many."""
        while self.steps and self.steps[0] <= step - self.window:
            self.steps.popleft()
        if len(self.steps) >= self.max_restarts:
            return False
        self.steps.append(step)
        return True

    def exhausted_text(self) -> str:
        """Why no more restarts, for the error message."""
        if self.max_restarts == 0:
            return "worker restarts are off (max_restarts=0)"
        return (f"workers keep dying: {self.max_restarts} restarts within {self.window} vector steps "
                "already (max_restarts, restart_window)")


__all__ = ["RestartBudget", "WorkerRestartWarning", "dead_worker_error", "death_text", "error_from_worker",
           "error_payload", "game_of"]
