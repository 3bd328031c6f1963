"""The local engine on every core: a model job's chunks scored by a pool of processes.

Each chunk is cut into one slice per process; a process loads the model
from its artifacts once (memory-mapped: the processes share its pages)
and answers its slices with the same scorer as the Spark executors
(:func:`~recostack.jobs.batch_spark.executor_scorer`, the one recommend
pipeline); the slices come back in order, so the output is the one a
single process writes. Processes come from a fork server that has the
scoring code imported, so a pool starts in well under a second.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from recostack.jobs.batch_scoring import LineFormat

__all__ = ["PooledChunkScorer"]


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
        self._pool = ProcessPoolExecutor(max_workers=processes, mp_context=_context())

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
