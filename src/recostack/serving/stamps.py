"""The store's change stamps, and the one thread that polls them for every cache.

Every write that a serving cache must see (a key rotation, a new default
model, a deleted model, a scenario, a deployment, a customer record)
writes a new stamp under its name in the store's settings table, in the
same transaction. :class:`StampPoller` reads all stamps in one small query
every ``refresh_seconds`` and hands them to each subscriber, which reloads
what it holds when its own stamps changed; so several API processes agree
within about a second.

Without the polling thread (an app used without its lifespan), the request
path asks :meth:`StampPoller.ensure_fresh`, which polls inline when the
last poll is older than two intervals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final, Protocol

__all__ = [
    "CUSTOMERS_GENERATION",
    "DEFAULT_MODEL_ID",
    "DEPLOYMENTS_GENERATION",
    "KEYS_GENERATION",
    "MODELS_GENERATION",
    "SCENARIOS_GENERATION",
    "StampPoller",
    "StampSubscriber",
    "Stamps",
]

logger = logging.getLogger(__name__)

#: the model ``/api/models/default`` serves (a value, not a stamp: it is watched all the same)
DEFAULT_MODEL_ID: Final = "default_model_id"
#: a model was deleted or the default changed
MODELS_GENERATION: Final = "models_generation"
KEYS_GENERATION: Final = "keys_generation"
SCENARIOS_GENERATION: Final = "scenarios_generation"
DEPLOYMENTS_GENERATION: Final = "deployments_generation"
CUSTOMERS_GENERATION: Final = "customers_generation"

Stamps = Mapping[str, str | None]


class StampSubscriber(Protocol):
    def on_stamps(self, stamps: Stamps) -> None:
        """Reload what changed since the last call (``stamps``: every stamp, as read now)."""


class StampPoller:
    def __init__(self, read: Callable[[], Stamps], *, refresh_seconds: float = 0.5) -> None:
        self._read = read
        self.refresh_seconds = refresh_seconds
        self._subscribers: list[StampSubscriber] = []
        self._polled_at = 0.0
        self._failures = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, subscriber: StampSubscriber) -> None:
        self._subscribers.append(subscriber)

    def poll(self) -> None:
        """Read the stamps now and let every subscriber reload what changed (a subscriber
        that fails is logged and tried again at the next poll; the others go on)."""
        with self._lock:
            try:
                stamps = self._read()
            except Exception:
                # the first failure of a row with its traceback, then quiet (an outage
                # would log one every poll)
                self._failures += 1
                if self._failures == 1:
                    logger.warning("could not read the store's change stamps", exc_info=True)
                return
            finally:
                self._polled_at = time.monotonic()
            if self._failures:
                logger.warning("read the change stamps again after %d failures", self._failures)
                self._failures = 0
            for subscriber in self._subscribers:
                try:
                    subscriber.on_stamps(stamps)
                except Exception:
                    logger.warning("%r could not reload", subscriber, exc_info=True)

    def ensure_fresh(self) -> None:
        """Poll inline when the thread does not keep the stamps fresh (no I/O otherwise)."""
        if time.monotonic() - self._polled_at > 2 * self.refresh_seconds:
            self.poll()

    def start(self) -> None:
        if self._thread is not None:
            return
        self.poll()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stamp-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            self.poll()
