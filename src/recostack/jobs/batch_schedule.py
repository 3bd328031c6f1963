"""Batch predictions on a schedule: each due time of a ``refresh_schedule`` runs once.

The workers call :func:`run_due_batch_predictions` as they look for work.
A due batch prediction is locked (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, SQLite's write lock), its next due time moved on and a run
queued in one transaction, so however many workers look, each due time
queues exactly one run. Due times missed while no worker ran are not
caught up: the next run is the schedule's next time after now.
"""

from __future__ import annotations

from recostack.services.batch_predictions import next_run, start_run
from recostack.settings import Settings
from recostack.store.batch_repository import due_batch_predictions
from recostack.store.engine import Database
from recostack.store.tables import utcnow

__all__ = ["run_due_batch_predictions"]


def run_due_batch_predictions(settings: Settings, db: Database) -> int:
    """Queue one run of every batch prediction that is due; how many were queued."""
    now = utcnow()
    queued = 0
    with db.transaction() as session:
        for prediction in due_batch_predictions(session, now):
            schedule = prediction.refresh_schedule
            prediction.next_run_at = next_run(schedule, now) if schedule else None
            start_run(session, settings, prediction)
            queued += 1
    return queued
