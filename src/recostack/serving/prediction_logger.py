"""Prediction logs written off the request path: a queue and a flushing thread.

:meth:`PredictionLogger.log` only appends to an in-memory queue (no I/O,
never blocks). A background thread takes up to ``batch_size`` records at a
time and writes each batch in one multi-row insert, once a second unless a
batch is full (its :class:`~recostack.serving.batch_queue.Pace`; a flush or
a stop hurries it); a batch that fails is
kept and retried, so no record is lost while the store comes back.
:meth:`stop` writes everything still queued before it returns (the app's
shutdown). ``written`` and ``queued`` count records, for tests and
benchmarks; :meth:`flush` waits until every record logged so far is
stored. Request ids logged but not yet written are remembered, so that a
response can be linked to an answer given a moment ago.

A record is a :class:`PredictionRecord`: a flat tuple of plain values, its
documents already JSON text. Measured (``bench/deployment.py``): records
held as dicts of lists were tracked by the garbage collector while they
waited, and every full collection scanned the thousands waiting at a few
thousand answers a second (20 ms pauses, the deployment path's p99); a
tuple of strings and numbers is not tracked, and the writer binds it as it is.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

from recostack.serving.batch_queue import WRITE_SECONDS, Pace, take_batch, wait_until_written

__all__ = ["AnswerObserver", "PredictionLogger", "PredictionRecord"]

logger = logging.getLogger(__name__)


class PredictionRecord(NamedTuple):
    """One answer as the prediction log keeps it."""

    request_id: str
    deployment_id: str
    version: str
    model_id: str
    user_id: str | None
    #: JSON text of the answer's items (``[{"itemId", "score", "rank"}]``)
    items_json: str
    #: JSON text of the request's context
    context_json: str
    created_at: datetime
    latency_ms: float


Writer = Callable[[Sequence[PredictionRecord]], None]


class AnswerObserver(Protocol):
    """Told of every answer (the statistics rollups): stored batches, and unlogged answers."""

    def add_answers(self, batch: Sequence[PredictionRecord]) -> None: ...

    def add_unlogged(self, record: PredictionRecord) -> None: ...


class PredictionLogger:
    def __init__(
        self,
        write: Writer,
        *,
        batch_size: int = 2000,
        flush_seconds: float = 0.05,
        write_seconds: float = WRITE_SECONDS,
        retry_seconds: float = 0.5,
        observer: AnswerObserver | None = None,
    ) -> None:
        self._write = write
        #: told of each batch once it is stored (in the writing thread, off the request path)
        self.observer = observer
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.pace = Pace(write_seconds)
        self.retry_seconds = retry_seconds
        self._queue: queue.SimpleQueue[PredictionRecord | None] = queue.SimpleQueue()
        self._pending: dict[str, str] = {}  # request id -> deployment id, until written
        self._lock = threading.Lock()
        self._written_cond = threading.Condition(self._lock)
        self.queued = 0
        self.written = 0
        self.failures = 0
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # --- the request path ----------------------------------------------------------
    def log(self, record: PredictionRecord) -> None:
        with self._lock:
            self.queued += 1
            self._pending[record.request_id] = record.deployment_id
        self._queue.put(record)

    def observe(self, record: PredictionRecord) -> None:
        """An answer of a deployment that does not log: counted, not stored."""
        if self.observer is not None:
            self.observer.add_unlogged(record)

    def is_pending(self, deployment_id: str, request_id: str) -> bool:
        with self._lock:
            return self._pending.get(request_id) == deployment_id

    # --- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="prediction-logger", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write every queued record, then stop the thread."""
        if self._thread is None:
            self._drain_inline()
            return
        self._stopping.set()
        self.pace.hurry()
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None
        self._drain_inline()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every record logged so far is written (``False`` on timeout)."""
        if self._thread is None:
            self._drain_inline()
        self.pace.hurry()
        return wait_until_written(self, self._written_cond, timeout)

    # --- the flushing thread -------------------------------------------------------
    def _take_batch(self, block: bool) -> tuple[list[PredictionRecord], bool]:
        return take_batch(self._queue, block, self.flush_seconds, self.batch_size)

    def _store(self, batch: list[PredictionRecord]) -> None:
        """Write ``batch``, retrying until it is stored (or, when stopping, a few times)."""
        attempts = 0
        while True:
            try:
                self._write(batch)
                break
            except Exception:
                attempts += 1
                self.failures += 1
                logger.warning(
                    "could not write %d prediction logs (attempt %d; kept, retried)",
                    len(batch),
                    attempts,
                    exc_info=attempts == 1,
                )
                if self._stopping.is_set() and attempts >= 5:
                    logger.error("dropping %d prediction logs at shutdown", len(batch))
                    return
                time.sleep(self.retry_seconds)
        if self.observer is not None:
            try:
                self.observer.add_answers(batch)
            except Exception:
                logger.warning("could not count %d answers", len(batch), exc_info=True)
        with self._lock:
            self.written += len(batch)
            for record in batch:
                self._pending.pop(record.request_id, None)
            self._written_cond.notify_all()

    def _run(self) -> None:
        while True:
            began = time.monotonic()
            batch, stop = self._take_batch(block=True)
            if batch:
                self._store(batch)
            if stop:
                return
            self.pace.rest(began, len(batch) >= self.batch_size)

    def _drain_inline(self) -> None:
        while True:
            batch, _ = self._take_batch(block=False)
            if not batch:
                return
            self._store(batch)
