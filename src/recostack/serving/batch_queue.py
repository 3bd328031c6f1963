"""A writer thread's queue (the prediction logger's and the learner's): taking a batch off
it, and waiting until what was queued is written."""

from __future__ import annotations

import queue
import threading
import time
from typing import Protocol, TypeVar

__all__ = ["WriteCounts", "take_batch", "wait_until_written"]

T = TypeVar("T")


def take_batch(
    source: queue.SimpleQueue[T | None], block: bool, wait_seconds: float, batch_size: int
) -> tuple[list[T], bool]:
    """Up to ``batch_size`` items: the first waited for up to ``wait_seconds`` (``block``) or
    not at all, the rest only as far as they are there already; and whether a ``None``
    (stop) was among them."""
    batch: list[T] = []
    stop = False
    try:
        first = source.get(timeout=wait_seconds) if block else source.get_nowait()
    except queue.Empty:
        return batch, stop
    if first is None:
        stop = True
    else:
        batch.append(first)
    while len(batch) < batch_size:
        try:
            item = source.get_nowait()
        except queue.Empty:
            break
        if item is None:
            stop = True
            continue
        batch.append(item)
    return batch, stop


class WriteCounts(Protocol):
    """Items queued for a writer thread and items it has written, counted under one lock."""

    queued: int
    written: int


def wait_until_written(counts: WriteCounts, written: threading.Condition, timeout: float) -> bool:
    """Wait until every item queued so far is written (``False`` after ``timeout`` seconds);
    ``written`` is notified by the writer and guards ``counts``."""
    deadline = time.monotonic() + timeout
    with written:
        target = counts.queued
        while counts.written < target:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            written.wait(min(left, 0.05))
    return True
