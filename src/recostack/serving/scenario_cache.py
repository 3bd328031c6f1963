"""Scenarios, default scenarios and A/B tests, held in memory by each API process.

:class:`ScenarioCache` keeps one immutable
:class:`~recostack.store.scenario_repository.ScenarioSnapshot`. A write made
by this process reloads it at once (:meth:`ScenarioCache.reload`, the store
service's ``on_change``); a poller thread reads the store's
``scenarios_generation`` stamp every ``refresh_seconds`` (one tiny query)
and reloads when another process changed it, so every process sees a change
within about a second. A request only reads :meth:`ScenarioCache.current`:
no I/O, unless no poller runs and the snapshot is stale (an app used without
its lifespan), when it refreshes inline.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from recostack.store.scenario_repository import EMPTY_SNAPSHOT, ScenarioSnapshot

__all__ = ["ScenarioCache", "ScenarioSource"]

logger = logging.getLogger(__name__)


class ScenarioSource(Protocol):
    """The store, as the cache reads it (``recostack.store.scenario_repository``)."""

    def stamp(self) -> str | None: ...

    def snapshot(self) -> ScenarioSnapshot: ...


class ScenarioCache:
    def __init__(self, source: ScenarioSource, *, refresh_seconds: float = 0.5) -> None:
        self.source = source
        self.refresh_seconds = refresh_seconds
        self._snapshot: ScenarioSnapshot = EMPTY_SNAPSHOT
        self._loaded = False
        self._refreshed_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the hot path ------------------------------------------------------------
    def current(self) -> ScenarioSnapshot:
        """The snapshot to serve a request with."""
        if time.monotonic() - self._refreshed_at > 2 * self.refresh_seconds:
            self._refresh_quietly()
        return self._snapshot

    # --- changes -----------------------------------------------------------------
    def reload(self) -> None:
        """Read everything now (after a write by this process)."""
        with self._lock:
            self._snapshot = self.source.snapshot()
            self._loaded = True
            self._refreshed_at = time.monotonic()

    def refresh(self) -> None:
        """Reload when the stored stamp differs from the snapshot's."""
        with self._lock:
            if self._loaded and self.source.stamp() == self._snapshot.stamp:
                self._refreshed_at = time.monotonic()
                return
            self._snapshot = self.source.snapshot()
            self._loaded = True
            self._refreshed_at = time.monotonic()

    def _refresh_quietly(self) -> None:
        try:
            self.refresh()
        except Exception:
            logger.warning("could not refresh the scenarios", exc_info=True)
            self._refreshed_at = time.monotonic()

    # --- the poller --------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._refresh_quietly()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scenario-refresher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            self._refresh_quietly()
