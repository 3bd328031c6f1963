"""Statistics over time, rolled up in memory and flushed to the store incrementally.

:class:`DeploymentStatistics` keeps, per (deployment, version, minute),
the requests answered and failed, their latency histogram, the users seen,
responses and take-ups (:class:`Cell`). It is fed off the request path:

- answers, by the prediction logger's writing thread, one batch at a time
  (:meth:`add_answers`: the batch is transposed and grouped in C-level
  passes, then summarised with numpy) — or, for a deployment that does not
  log, through a queue the flushing thread drains (:meth:`add_unlogged`);
- failed recommend requests (4xx, 5xx), by the HTTP middleware, which knows
  the status (:meth:`add_failure`);
- responses, by the service that stores them (:meth:`add_response`).

Every ``flush_seconds`` a thread turns the cells into :class:`Rollup` deltas
for the minute, the hour and the day they fall in, and hands them to the
store, which merges them into its rows (counts add, histograms add, user
sketches take maxima), so any number of processes add up. A flush that
fails is kept and retried. The same figures go to the Prometheus counters.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from recostack.serving.metrics import serving_metrics
from recostack.serving.prediction_logger import PredictionRecord
from recostack.serving.stat_sketches import LatencyHistogram, UserSketch

__all__ = ["GRANULARITIES", "Cell", "DeploymentStatistics", "Granularity", "Rollup", "bucket_of"]

logger = logging.getLogger(__name__)

Granularity = Literal["minute", "hour", "day"]
GRANULARITIES: tuple[Granularity, ...] = ("minute", "hour", "day")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def bucket_of(moment: datetime, granularity: Granularity) -> datetime:
    """The start of the ``granularity`` bucket holding ``moment`` (UTC)."""
    seconds = _SECONDS[granularity]
    epoch = int(moment.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class Cell:
    """What one deployment version did in one bucket."""

    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    users: set[str] = field(default_factory=set)
    responses: int = 0
    take_ups: int = 0


@dataclass
class Rollup:
    """A delta (or a stored row) of one deployment version in one bucket."""

    deployment_id: str
    version: str
    granularity: Granularity
    bucket_start: datetime
    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    users: UserSketch = field(default_factory=UserSketch)
    responses: int = 0
    take_ups: int = 0

    @property
    def key(self) -> tuple[str, str, str, datetime]:
        return (self.deployment_id, self.version, self.granularity, self.bucket_start)

    def merge(self, other: Rollup) -> None:
        self.requests += other.requests
        self.errors_4xx += other.errors_4xx
        self.errors_5xx += other.errors_5xx
        self.latency.merge(other.latency)
        self.users.merge(other.users)
        self.responses += other.responses
        self.take_ups += other.take_ups


CellKey = tuple[str, str, int]  # deployment, version, minute since the epoch
Writer = Callable[[Sequence[Rollup]], None]


def _minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


class DeploymentStatistics:
    def __init__(
        self,
        write: Writer,
        *,
        version_of: Callable[[str], str | None] = lambda _d: None,
        flush_seconds: float = 1.0,
    ) -> None:
        self._write = write
        #: the version a deployment serves by default (``None``: no such deployment)
        self._version_of = version_of
        self.flush_seconds = flush_seconds
        self._cells: dict[CellKey, Cell] = {}
        self._unwritten: list[Rollup] = []
        self._unlogged: queue.SimpleQueue[PredictionRecord] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._metrics = serving_metrics()

    # --- feeding -------------------------------------------------------------------------
    def add_answers(self, batch: Sequence[PredictionRecord]) -> None:
        """A batch of answers (the logger's thread, after the batch is stored)."""
        if not batch:
            return
        columns = tuple(zip(*batch, strict=True))
        deployments, versions, users, created = columns[1], columns[2], columns[4], columns[7]
        latencies = np.asarray(columns[8], dtype=np.float64)
        n = len(batch)
        first_minute = _minute(min(created))
        groups: dict[CellKey, list[int] | None]
        if (
            first_minute == _minute(max(created))
            and deployments.count(deployments[0]) == n
            and versions.count(versions[0]) == n
        ):  # the usual batch: one deployment version, one minute
            groups = {(deployments[0], versions[0], first_minute): None}
        else:
            groups = {}
            for index, key in enumerate(
                zip(deployments, versions, map(_minute, created), strict=True)
            ):
                found = groups.get(key)
                if found is None:
                    groups[key] = [index]
                else:
                    found.append(index)
        counted: dict[tuple[str, str], int] = {}
        with self._lock:
            for key, indices in groups.items():
                cell = self._cell(key)
                if indices is None:
                    size = n
                    cell.latency.add_many(latencies)
                    cell.users.update(users)
                else:
                    size = len(indices)
                    cell.latency.add_many(latencies[indices])
                    cell.users.update([users[i] for i in indices])
                cell.requests += size
                pair = (key[0], key[1])
                counted[pair] = counted.get(pair, 0) + size
        for (deployment, version), size in counted.items():
            self._metrics.recommendations.labels(deployment, version).inc(size)

    def add_unlogged(self, record: PredictionRecord) -> None:
        """An answer of a deployment that does not log (the request path: a queue put)."""
        self._unlogged.put(record)

    def add_failure(self, deployment_id: str, status: int, latency_ms: float) -> None:
        """A failed recommend request of ``deployment_id`` (ignored if it does not exist)."""
        version = self._version_of(deployment_id)
        if version is None:
            return
        key = (deployment_id, version, _minute(datetime.now(UTC)))
        with self._lock:
            cell = self._cell(key)
            cell.requests += 1
            if status >= 500:
                cell.errors_5xx += 1
            else:
                cell.errors_4xx += 1
            cell.latency.add_many((latency_ms,))
        status_class = "5xx" if status >= 500 else "4xx"
        self._metrics.deployment_errors.labels(deployment_id, version, status_class).inc()

    def add_response(
        self, deployment_id: str, version: str, take_up: bool | None, at: datetime
    ) -> None:
        """A response to an answer of ``deployment_id`` ``version``."""
        with self._lock:
            cell = self._cell((deployment_id, version, _minute(at)))
            cell.responses += 1
            if take_up:
                cell.take_ups += 1
        if take_up:
            self._metrics.take_ups.labels(deployment_id, version).inc()

    def _cell(self, key: CellKey) -> Cell:
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = Cell()
        return cell

    # --- flushing ------------------------------------------------------------------------
    def flush(self) -> None:
        """Write what was added so far (kept for the next flush if the store fails)."""
        with self._flush_lock:
            self._drain_unlogged()
            with self._lock:
                cells, self._cells = self._cells, {}
            deltas = self._unwritten + rollups_of(cells.items())
            self._unwritten = []
            if not deltas:
                return
            try:
                self._write(deltas)
            except Exception:
                logger.warning("could not write %d statistics rollups", len(deltas), exc_info=True)
                self._unwritten = deltas

    def _drain_unlogged(self) -> None:
        batch: list[PredictionRecord] = []
        while True:
            try:
                batch.append(self._unlogged.get_nowait())
            except queue.Empty:
                break
        if batch:
            self.add_answers(batch)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="statistics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:
                logger.warning("statistics flush failed", exc_info=True)


def rollups_of(cells: Iterable[tuple[CellKey, Cell]]) -> list[Rollup]:
    """The minute, hour and day deltas of ``cells`` (cells of one hour merged)."""
    out: dict[tuple[str, str, str, datetime], Rollup] = {}
    for (deployment, version, minute), cell in cells:
        at = datetime.fromtimestamp(minute * 60, UTC)
        sketch = UserSketch()
        sketch.add_many(u for u in cell.users if u)
        for granularity in GRANULARITIES:
            start = bucket_of(at, granularity)
            delta = Rollup(
                deployment,
                version,
                granularity,
                start,
                cell.requests,
                cell.errors_4xx,
                cell.errors_5xx,
                LatencyHistogram(cell.latency.counts.copy(), cell.latency.total_ms),
                UserSketch(sketch.registers.copy()),
                cell.responses,
                cell.take_ups,
            )
            found = out.get(delta.key)
            if found is None:
                out[delta.key] = delta
            else:
                found.merge(delta)
    return list(out.values())


def interval_end(start: datetime, granularity: Granularity) -> datetime:
    return start + timedelta(seconds=_SECONDS[granularity])
