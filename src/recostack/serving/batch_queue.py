"""Taking a batch off a writer thread's queue (the prediction logger's and the learner's)."""

from __future__ import annotations

import queue
from typing import TypeVar

__all__ = ["take_batch"]

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
