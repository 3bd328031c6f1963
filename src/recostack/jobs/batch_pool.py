"""The local engine on every core: a model job's chunks scored by a pool of processes.

Each chunk is cut into one slice per process; a process loads the model
from its artifacts once (memory-mapped: the processes share its pages)
and answers its slices with the same scorer as the Spark executors
(:func:`~recostack.jobs.batch_spark.executor_scorer`, the one recommend
pipeline); the slices come back in order, so the output is the one a
single process writes. Processes come from a fork server that has the
scoring code imported, so a pool starts in well under a second.

A worker that is killed (SIGKILL, the OOM killer) cannot shut its pool
down, and a pool process does not notice on its own: it waits on the
pool's queue, whose write end it holds itself, and the fork server waits
for it (each process it forks holds the server's liveness pipe). Found
after a killed-workers test: two scoring processes and their fork server,
a quarter of a gigabyte each, still there minutes after the worker died. So
each pool process watches the worker that started it (its pid and start
time: a pid can be reused) and ends when that worker is gone.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import psutil

from recostack.jobs.batch_scoring import LineFormat

__all__ = ["WATCH_SECONDS", "PooledChunkScorer"]

#: how often a pool process looks whether the worker that started it is still there
WATCH_SECONDS = 1.0


def _is_running(pid: int, started: float) -> bool:
    """Whether process ``pid``, started at ``started``, is still running (not a zombie)."""
    try:
        process = psutil.Process(pid)
        return process.create_time() == started and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _exit_when_gone(pid: int, started: float) -> None:
    while _is_running(pid, started):
        time.sleep(WATCH_SECONDS)
    os._exit(0)  # nothing of this process's is worth finishing: its worker is dead


def _watch_worker(pid: int, started: float) -> None:
    """A pool process's initializer: end this process once worker ``pid`` is gone."""
    threading.Thread(
        target=_exit_when_gone, args=(pid, started), name="worker-watch", daemon=True
    ).start()


def _score_slice(payload: dict[str, Any], first_line: int, lines: list[bytes]) -> tuple[bytes, int]:
    from recostack.jobs.batch_spark import executor_scorer

    return executor_scorer(payload).score(lines, first_line)


def _context() -> Any:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["recostack.jobs.batch_spark", "recostack.jobs.batch_pool"])
    return context


class PooledChunkScorer:
    """A model job's chunks scored by ``processes`` processes of this machine."""

    def __init__(self, processes: int, payload: dict[str, Any], fmt: LineFormat) -> None:
        self.processes = processes
        self.fmt = fmt
        self._payload = payload
        worker = psutil.Process()
        self._pool = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=_context(),
            initializer=_watch_worker,
            initargs=(worker.pid, worker.create_time()),
        )

    @property
    def header(self) -> bytes:
        return self.fmt.header

    def score(self, lines: Sequence[bytes], first_line: int) -> tuple[bytes, int]:
        step = max(1, math.ceil(len(lines) / self.processes))
        futures = [
            self._pool.submit(
                _score_slice, self._payload, first_line + start, list(lines[start : start + step])
            )
            for start in range(0, len(lines), step)
        ]
        results = [f.result() for f in futures]
        return b"".join(r[0] for r in results), sum(r[1] for r in results)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
