"""A writer thread's pace (``batch_queue.Pace``), on the prediction logger: a batch that was
not full is followed by the next only after the pace, gathering what came meanwhile into one
write; a flush or a stop writes what is queued at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from recostack.serving.prediction_logger import PredictionLogger, PredictionRecord

#: far longer than the test: a write before it is a flush's or a stop's
PACE_SECONDS = 600.0


def _record(n: int) -> PredictionRecord:
    return PredictionRecord(f"r{n}", "dep", "1", "model", "u1", "[]", "{}", datetime.now(UTC), 1.0)


class _Writes:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.lock = threading.Lock()

    def __call__(self, batch: Sequence[PredictionRecord]) -> None:
        with self.lock:
            self.batches.append([r.request_id for r in batch])


def _wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_writer_gathers_until_its_pace_unless_hurried() -> None:
    writes = _Writes()
    logger = PredictionLogger(writes, write_seconds=PACE_SECONDS)
    logger.start()
    try:
        logger.log(_record(1))
        _wait_for(lambda: writes.batches == [["r1"]])  # the first is written at once
        logger.log(_record(2))
        logger.log(_record(3))
        time.sleep(0.3)  # far past the 50 ms a first record waits without a pace
        assert writes.batches == [["r1"]] and logger.written == 1
        assert logger.flush(timeout=10)  # a flush writes what is queued now, in one batch
        assert writes.batches == [["r1"], ["r2", "r3"]]
        logger.log(_record(4))
    finally:
        logger.stop(timeout=10)  # so does a stop
    assert writes.batches == [["r1"], ["r2", "r3"], ["r4"]]


def test_a_full_batch_is_followed_at_once() -> None:
    writes = _Writes()
    logger = PredictionLogger(writes, batch_size=2, write_seconds=PACE_SECONDS)
    for n in range(5):
        logger.log(_record(n))
    logger.start()
    try:
        # full batches follow one another without waiting for the pace
        _wait_for(lambda: len(writes.batches) == 3)
        assert writes.batches == [["r0", "r1"], ["r2", "r3"], ["r4"]]
    finally:
        logger.stop(timeout=10)
