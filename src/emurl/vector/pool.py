"""The parent's side of a vector env's worker processes: start them, talk through their pipes,
free everything (processes, pipes, the shared observation block) once.

:class:`WorkerPool` is kept apart from the VecEnv so that a ``weakref.finalize`` can free
it when the VecEnv is garbage-collected (or at interpreter exit) without keeping the VecEnv
alive.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.connection
import pickle
import select
from multiprocessing.context import BaseContext
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np

from emurl.vector.faults import death_text
from emurl.vector.worker import dumps, run_worker

# How often (seconds) a parent waiting on a worker checks that the worker is still alive.
_POLL_INTERVAL = 0.5
# How long release() waits for a worker to exit by itself before terminating it.
_JOIN_TIMEOUT = 5.0


class WorkerPool:
    """Worker processes (:func:`~emurl.vector.worker.run_worker`), one pipe each, and the
    shared observation block (``shm``, viewed as ``obs``) they write into."""

    def __init__(self, ctx: BaseContext):
        self.ctx = ctx
        self.processes: list = []
        self.remotes: list = []
        self.pollers: list = []  # per worker: select.poll on its pipe and its sentinel (cheaper than connection.wait)
        self.shm: SharedMemory | None = None
        self.obs: np.ndarray | None = None  # the parent's view of the shared block
        self.pending: set[int] = set()  # workers whose answer has not been read yet
        self.released = False

    def start(self, i: int) -> None:
        """Start worker ``i``: the next one, or a new one in place of worker ``i`` (dead)."""
        remote, work_remote = self.ctx.Pipe()
        # daemon: if the parent crashes, the workers do not outlive it
        process = self.ctx.Process(target=run_worker, args=(work_remote, remote, i), daemon=True,
                                   name=f"SharedMemoryVecEnv-worker-{i}")
        process.start()
        work_remote.close()
        poller = select.poll()
        poller.register(remote.fileno(), select.POLLIN)
        poller.register(process.sentinel, select.POLLIN)
        if i == len(self.processes):
            self.remotes.append(remote)
            self.processes.append(process)
            self.pollers.append(poller)
        else:
            self.processes[i].join(1.0)  # reap the dead one
            self.remotes[i].close()
            self.remotes[i], self.processes[i], self.pollers[i] = remote, process, poller

    def send(self, i: int, cmd: str, data: Any) -> None:
        """Send ``(cmd, data)`` to worker ``i`` (to a dead one: nothing; :meth:`recv` says it died)."""
        try:
            self.remotes[i].send_bytes(dumps((cmd, data)))
        except (BrokenPipeError, ConnectionResetError, EOFError):
            pass
        self.pending.add(i)

    def recv(self, i: int) -> tuple:
        """The answer of worker ``i``: ("ok", x), ("error", details), ("attr_error", text) or,
        without waiting forever for a dead worker, ("dead", text with its exit code)."""
        remote, process = self.remotes[i], self.processes[i]
        try:
            poller = self.pollers[i]
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
            self.pending.discard(i)
        return ("dead", death_text(process))

    def release(self) -> None:
        """Close every worker (terminating those that do not exit), the pipes, and unlink the
        shared block. Safe to call twice and after workers died."""
        if self.released:
            return
        self.released = True
        # Read answers still in flight, so that no worker is blocked writing to its pipe.
        for i in sorted(self.pending):
            remote, process = self.remotes[i], self.processes[i]
            try:
                ready = mp.connection.wait([remote, process.sentinel], timeout=_JOIN_TIMEOUT)
                if remote in ready:
                    remote.recv_bytes()
            except (EOFError, OSError):
                pass
        self.pending.clear()
        for remote in self.remotes:
            try:
                remote.send_bytes(dumps(("close", None)))
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


__all__ = ["WorkerPool"]
