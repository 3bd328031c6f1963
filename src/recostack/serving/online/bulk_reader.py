"""Store reads in bulk for requests on the event loop: one thread, one query per batch.

A request that needs something only the store knows (the offers another
process showed, a customer's arms) awaits :meth:`BulkReader.get`; the key
goes to a queue, and one thread reads every key queued by then in one call
of ``read`` and resumes each waiting request with its value. The event loop
never blocks on the store, and N concurrent requests cost one query, not N.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["BulkReader"]

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_Waiting = tuple[object, "asyncio.Future[object]", asyncio.AbstractEventLoop]


def _resolve(future: asyncio.Future[object], value: object) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[object], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _call(loop: asyncio.AbstractEventLoop, *call: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop closed while its request waited
        loop.call_soon_threadsafe(*call)


class BulkReader(Generic[K, V]):
    """``read(keys) -> {key: value}`` called on one thread with every key waiting (at most
    ``max_batch``); a key it does not return resolves to ``None``."""

    def __init__(
        self, read: Callable[[Sequence[K]], dict[K, V]], *, name: str, max_batch: int = 1000
    ) -> None:
        self._read = read
        self._name = name
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        #: queries made and keys read (for tests and benchmarks)
        self.queries = 0
        self.keys_read = 0

    async def get(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[object] = loop.create_future()
        self._ensure_started()
        self._queue.put((key, future, loop))
        value = await future
        return value  # type: ignore[return-value]

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._serve(batch)
            if stop:
                return

    def _serve(self, batch: list[_Waiting]) -> None:
        keys = list(dict.fromkeys(key for key, _, _ in batch))
        try:
            found: dict[object, object] = dict(self._read(keys))  # type: ignore[arg-type]
            self.queries += 1
            self.keys_read += len(keys)
        except Exception as exc:  # every waiting request gets the error (a 500)
            logger.warning("%s: bulk read of %d keys failed", self._name, len(keys), exc_info=True)
            for _, future, loop in batch:
                _call(loop, _fail, future, exc)
            return
        for key, future, loop in batch:
            _call(loop, _resolve, future, found.get(key))
