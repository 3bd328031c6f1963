"""What the worker runs for each kind of job other than training.

A handler takes the settings, the store, the claimed job and an event that
is set when it must stop (its lease was lost, the worker is stopping); it
raises :class:`~recostack.jobs.runner.JobCancelled` when it stops early, a
:class:`~recostack.errors.RecostackError` for a job that failed for good,
and returns the job's statistics when it is done. Handlers are imported
when first used (a batch job's engine may be heavy: Spark).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from recostack.jobs.queue import ClaimedJob, JobKind
from recostack.settings import Settings
from recostack.store.engine import Database

__all__ = ["Handler", "handler_of"]

Handler = Callable[[Settings, Database, ClaimedJob, threading.Event], dict[str, Any]]


def handler_of(kind: str) -> Handler:
    """The handler of ``kind`` (:class:`ValueError` for a kind without one)."""
    if kind == JobKind.BATCH:
        from recostack.jobs.batch_runner import run_batch_job

        return run_batch_job
    if kind == JobKind.CAMPAIGN:
        from recostack.jobs.campaign_runner import run_campaign_job

        return run_campaign_job
    raise ValueError(f"no handler for jobs of kind {kind!r}")
