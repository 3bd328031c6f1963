"""Scenarios, default scenarios and A/B tests, held in memory by each API process.

:class:`ScenarioCache` keeps one immutable
:class:`~recostack.rules.ScenarioSnapshot`. A write made by this process
reloads it at once (:meth:`ScenarioCache.reload`, the store service's
``on_change``); another process's write is seen through the scenarios'
stamp (:mod:`recostack.serving.stamps`). A request only reads
:meth:`ScenarioCache.current`: no I/O unless no poller keeps the stamps
fresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from recostack.rules import EMPTY_SNAPSHOT, ScenarioSnapshot
from recostack.serving.stamps import SCENARIOS_GENERATION, StampPoller, Stamps

__all__ = ["ScenarioCache"]


class ScenarioCache:
    def __init__(self, read: Callable[[], ScenarioSnapshot], poller: StampPoller) -> None:
        self._read = read
        self._poller = poller
        self._snapshot = EMPTY_SNAPSHOT
        self._loaded = False
        self._lock = threading.Lock()

    def current(self) -> ScenarioSnapshot:
        """The snapshot to serve a request with."""
        self._poller.ensure_fresh()
        return self._snapshot

    def reload(self) -> None:
        """Read everything now (after a write by this process)."""
        with self._lock:
            self._snapshot = self._read()
            self._loaded = True

    def on_stamps(self, stamps: Stamps) -> None:
        if self._loaded and stamps.get(SCENARIOS_GENERATION) == self._snapshot.stamp:
            return
        self.reload()
