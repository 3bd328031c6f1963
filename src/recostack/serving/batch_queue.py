"""A writer thread's queue (the prediction logger's and the learner's): taking a batch off
it, and waiting until what was queued is written."""

from __future__ import annotations

import queue
import threading
import time
from typing import Protocol, TypeVar

__all__ = ["WRITE_SECONDS", "Pace", "WriteCounts", "take_batch", "wait_until_written"]

T = TypeVar("T")

#: a writer thread's pace by default (:class:`Pace`)
WRITE_SECONDS = 1.0


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


class Pace:
    """How often a writer thread writes: after a batch that was not full, the next is taken
    no sooner than ``seconds`` after that one began, unless hurried (a flush, a stop).

    What a transaction costs is mostly its commit's (the pages it dirtied, the same for a few
    rows as for many), so a few larger batches a second cost a writer's thread, and the
    cores and the GIL it shares with the request path, less than many small ones (measured
    under bench/bandit.py's online load: the learner's CPU per answer halved, the prediction
    logger's a third of what it was; bench/README.md, bandit.py, from 2026-12-07 23:23 UTC)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._hurry = threading.Event()

    def hurry(self) -> None:
        """Write what is queued now instead of gathering more."""
        self._hurry.set()

    def rest(self, began: float, full: bool) -> None:
        """Wait before the next batch (``began``: when this one was taken, monotonic)."""
        if not full:
            self._hurry.wait(self.seconds - (time.monotonic() - began))
            self._hurry.clear()


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
