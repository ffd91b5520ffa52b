"""The worker pool NEAT and the league play in: a dead worker is an error, never a hang."""

import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from emurl.emulators.process import process_pool, setup_worker_process, stop_pool


def test_a_dead_worker_breaks_the_pool_instead_of_hanging():
    pool = process_pool(2, setup_worker_process)
    try:
        pid = pool.submit(os.getpid).result()  # builtins: nothing for the worker to import
        assert pid != os.getpid()
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):  # a multiprocessing.Pool would wait here forever
            list(pool.map(time.sleep, [0.5] * 4))
    finally:
        stop_pool(pool)


def test_stop_pool_ends_workers_in_the_middle_of_a_task():
    pool = process_pool(2, setup_worker_process)
    futures = [pool.submit(time.sleep, 600) for _ in range(3)]
    while not any(f.running() for f in futures):
        time.sleep(0.01)
    workers = list(pool._processes.values())
    t = time.monotonic()
    stop_pool(pool)
    assert all(not w.is_alive() for w in workers)
    assert time.monotonic() - t < 60  # not the 600 s the tasks asked for
    # the queued third never ran: cancelled, or failed with the pool (already handed to the workers' queue);
    # the executor's own thread settles it just after stop_pool returns, so wait for that first
    # (by polling done(): futures.wait() never counts a future cancelled outside the executor
    # as done, and would sit out its whole timeout)
    deadline = time.monotonic() + 30
    while not futures[-1].done() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert futures[-1].cancelled() or isinstance(futures[-1].exception(timeout=0), BrokenProcessPool)
