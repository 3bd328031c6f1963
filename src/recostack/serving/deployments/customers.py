"""The customer lookup: customer records per (collection, id), read through to the store.

:class:`CustomerCache` keeps the records it read (``None`` for a customer
who is not stored), least recently used first out, and drops them all when
the customers' stamp changes (an upload by any process).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import anyio.to_thread

from recostack.serving.stamps import CUSTOMERS_GENERATION, Stamps

__all__ = ["CustomerCache", "CustomerSource"]

Record = dict[str, Any]


class CustomerSource(Protocol):
    def fields(self, collection: str, customer_id: str) -> Record | None:
        """The stored record of a customer, ``None`` if not stored."""


class CustomerCache:
    def __init__(self, source: CustomerSource, max_entries: int = 100_000) -> None:
        self.source = source
        self.max_entries = max_entries
        self._records: OrderedDict[tuple[str, str], Record | None] = OrderedDict()
        self._lock = threading.Lock()
        self._stamp: str | None = None

    async def lookup(self, collection: str, customer_id: str) -> Record | None:
        """The customer's record (``None``: not stored); a miss reads the store in a thread."""
        key = (collection, customer_id)
        with self._lock:
            if key in self._records:
                self._records.move_to_end(key)
                return self._records[key]
        return await anyio.to_thread.run_sync(self.fetch, collection, customer_id)

    def fetch(self, collection: str, customer_id: str) -> Record | None:
        """Read through the store (blocking)."""
        found = self.source.fields(collection, customer_id)
        with self._lock:
            self._records[(collection, customer_id)] = found
            while len(self._records) > self.max_entries:
                self._records.popitem(last=False)
        return found

    def prefetch(self, collection: str, customer_ids: Sequence[str]) -> None:
        """Read the records of many customers not cached yet in one go (a batch job's chunk),
        when the source can (blocking)."""
        many = getattr(self.source, "fields_many", None)
        with self._lock:
            missing = list({c for c in customer_ids if (collection, c) not in self._records})
        if many is None or not missing:
            return
        found = many(collection, missing)
        with self._lock:
            for customer_id in missing:
                self._records[(collection, customer_id)] = found.get(customer_id)
            while len(self._records) > self.max_entries:
                self._records.popitem(last=False)

    def on_stamps(self, stamps: Stamps) -> None:
        stamp = stamps.get(CUSTOMERS_GENERATION)
        if stamp != self._stamp:
            with self._lock:
                self._records.clear()
            self._stamp = stamp
