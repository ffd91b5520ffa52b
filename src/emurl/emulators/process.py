"""Worker processes: how emurl starts them and what each sets up before it builds an env.

Here, in the emulator layer, because parallelism in emurl is processes: stable-retro and
py-desmume allow one emulator per process.

Every tool that runs emulators in parallel (the vector env's workers, the dataset
recorder's workers, the benchmark's subjects) starts its processes through
:func:`mp_context` and calls :func:`setup_worker_process` first thing in each, so that
they all run the same way.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
import signal
import sys
from collections.abc import Sequence
from multiprocessing.context import BaseContext

try:
    from multiprocessing import forkserver
except ImportError:  # pragma: no cover - a platform without forkserver (Windows)
    forkserver = None


def start_method() -> str:
    """``"forkserver"`` where the platform has it, else ``"spawn"``; never ``"fork"``: a
    forked child would inherit the parent's open emulator (one per process) and the
    threads of torch's pools, which do not survive a fork."""
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def mp_context(method: str | None = None, preload: Sequence[str] = ()) -> BaseContext:
    """The ``multiprocessing`` context worker processes are started with.

    Args:
        method: a start method (default: :func:`start_method`).
        preload: with ``forkserver``, modules the forkserver imports if this call starts
            it (the user's preload list is kept). Each worker is then forked from a process
            that has imported them: a worker whose module imports torch starts in a
            fraction of a second instead of importing it again (~1.5 s of CPU each). Once
            the forkserver runs, nothing changes.
    """
    method = method or start_method()
    if method == "forkserver" and preload:
        _preload_in_forkserver(preload)
    return mp.get_context(method)


def _preload_in_forkserver(modules: Sequence[str]) -> None:
    try:
        server = forkserver._forkserver
        missing = [m for m in modules if m not in server._preload_modules]
        if server._forkserver_pid is None and missing:
            forkserver.set_forkserver_preload(list(server._preload_modules) + missing)
    except Exception:  # pragma: no cover - private API of multiprocessing; only a speed-up
        pass


def setup_worker_process(*, ignore_interrupt: bool = False) -> None:
    """Set up this (worker) process before it builds an env.

    - One thread each for OpenMP, MKL, OpenCV and torch (if imported): the workers share
      the cores, and threads on an 84×84 image only add overhead.
    - SDL's dummy video and audio drivers unless the user chose others: an emulator
      (py-desmume) must not open a window or an audio device in a worker.
    - ``ignore_interrupt``: ignore SIGINT. Ctrl-C goes to the whole process group; a
      worker that the parent closes itself (the vector env) lets the parent decide.
    """
    if ignore_interrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        import cv2  # lazy: 16-22 ms; imported here so that its threads are capped before any wrapper uses it

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - cv2 is a dependency
        pass
    torch = sys.modules.get("torch")  # already imported (with stable_baselines3), or not needed
    if torch is not None:
        torch.set_num_threads(1)


def process_pool(num_proc: int, initializer=None, initargs: tuple = (), preload: Sequence[str] = ()) -> ProcessPoolExecutor:
    """``num_proc`` persistent worker processes started by :func:`mp_context` (``preload``
    as there), each running ``initializer(*initargs)`` once (which should call
    :func:`setup_worker_process` first).

    A :class:`~concurrent.futures.ProcessPoolExecutor`, not a ``multiprocessing.Pool``: a
    worker that dies (a crash in an emulator core, the OOM killer, a signal) breaks the pool,
    and the caller's next result raises
    :class:`~concurrent.futures.process.BrokenProcessPool`; a ``multiprocessing.Pool``
    quietly replaces the worker and waits forever for the task it lost. End it with
    ``shutdown()``, or :func:`stop_pool` not to wait for running tasks.
    """
    return ProcessPoolExecutor(num_proc, mp_context=mp_context(preload=preload), initializer=initializer,
                               initargs=initargs)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """End ``pool`` now: queued tasks are cancelled and its workers sent SIGTERM, without
    waiting for the tasks they run (after a Ctrl-C that the workers ignore)."""
    workers = list((getattr(pool, "_processes", None) or {}).values())  # private, but stable since 3.2
    pool.shutdown(wait=False, cancel_futures=True)
    for w in workers:
        if w.is_alive():
            w.terminate()
    for w in workers:
        w.join(5)


__all__ = ["mp_context", "process_pool", "setup_worker_process", "start_method", "stop_pool"]
