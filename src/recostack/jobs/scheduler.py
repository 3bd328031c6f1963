"""The workers' scheduler: refresh policies, alerts, realtime monitors, webhook deliveries.

Every worker process runs one :class:`SchedulerThread` (``recostack
worker`` and the workers inside ``recostack serve``). Each tick
(:meth:`Scheduler.tick`, every ``scheduler_poll_seconds``) it

1. records the process's heartbeat (``/metrics`` reports the workers alive);
2. runs the refresh policies' due times (each exactly once across any
   number of processes: a claim row whose key is (policy, due time),
   inserted in the transaction that submits the training and moves the
   policy to its next due time);
3. evaluates the alerts whose evaluation is due, and runs the realtime
   monitors that are due (each taken by one process with a compare-and-set
   on its next time);
4. sends the webhook deliveries that are due (claimed under a lease,
   retried with an exponential backoff).

A step that fails is logged; the next tick tries again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from recostack.services.alerts import evaluate_due_alerts
from recostack.services.realtime_monitor import run_due_monitors
from recostack.services.refresh_policies import RefreshOutcome, run_due_refreshes
from recostack.services.webhooks import deliver_due
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.tables import utcnow
from recostack.store.worker_repository import beat, forget_worker

__all__ = ["Scheduler", "SchedulerThread", "TickReport"]

logger = logging.getLogger(__name__)

#: how often a scheduler writes its heartbeat
HEARTBEAT_SECONDS = 5.0


@dataclass
class TickReport:
    refreshes: list[RefreshOutcome] = field(default_factory=list)
    alerts: int = 0
    monitors: int = 0
    deliveries: int = 0


class Scheduler:
    def __init__(self, settings: Settings, db: Database, owner: str | None = None) -> None:
        self.settings = settings
        self.db = db
        self.owner = (
            owner or f"{socket.gethostname()}:{os.getpid()}:scheduler-{uuid.uuid4().hex[:8]}"
        )
        self.started_at = utcnow()
        self._last_beat: datetime | None = None

    def tick(self, now: datetime | None = None) -> TickReport:
        """Do everything that is due at ``now`` (default: the clock's now)."""
        report = TickReport()
        now = now or utcnow()
        self._step("heartbeat", self._heartbeat)
        report.refreshes = (
            self._step(
                "refresh policies",
                lambda: run_due_refreshes(self.db, self.settings, self.owner, now),
            )
            or []
        )
        report.alerts = (
            self._step("alerts", lambda: evaluate_due_alerts(self.db, self.settings, now)) or 0
        )
        report.monitors = (
            self._step("realtime monitors", lambda: run_due_monitors(self.db, self.settings, now))
            or 0
        )
        report.deliveries = (
            self._step("webhooks", lambda: deliver_due(self.db, self.settings, self.owner)) or 0
        )
        return report

    def _step(self, name, run):  # type: ignore[no-untyped-def]
        try:
            return run()
        except Exception:
            logger.warning("scheduler %s: %s failed", self.owner, name, exc_info=True)
            return None

    def _heartbeat(self) -> None:
        now = utcnow()
        if self._last_beat is not None and now - self._last_beat < timedelta(
            seconds=HEARTBEAT_SECONDS
        ):
            return
        with self.db.transaction() as session:
            beat(session, self.owner, socket.gethostname(), os.getpid(), self.started_at)
        self._last_beat = now

    def forget(self) -> None:
        """This scheduler stops: its heartbeat row goes."""
        try:
            with self.db.transaction() as session:
                forget_worker(session, self.owner)
        except Exception:
            logger.debug("could not remove the heartbeat of %s", self.owner, exc_info=True)


class SchedulerThread:
    """A :class:`Scheduler` ticking in a daemon thread until :meth:`stop`."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.scheduler = Scheduler(settings, db)
        self.every = settings.scheduler_poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.scheduler.forget()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.scheduler.tick()
            self._stop.wait(self.every)
