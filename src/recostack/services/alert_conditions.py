"""What an alert watches: the value of its condition's statistic now, and whether it breaches.

Conditions (``conditionConfig.type``), each over the last ``windowMinutes``:

- ``ERROR_RATE``: failed requests per request (a share);
- ``LATENCY_P99``: the 99th percentile of latency (ms);
- ``REQUEST_RATE_DROP``: how far the request count fell against the window
  before (a share: 0.5 is half as many);
- ``TAKE_UP_RATE_DROP``: how far the take-up rate fell against the window before;
- ``MODEL_METRIC_DROP``: how far the served model's ``metric`` (``ndcg@10``)
  is below the model the deployment served before (a share);
- ``JOB_FAILURES``: trainings of the deployment's project that failed;
- ``MONITOR_METRIC``: a figure of the realtime monitor's latest result
  (``metric``: ``popularityPsi``, ``scorePsi``, ``catalogCoverage``,
  ``backfillShare``, ``takeUpRate``), above (or ``operator: below``) the threshold.

A value of ``None`` (no data in the window) never breaches.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recostack.evaluation.metrics_check import metric_value
from recostack.serving.statistics import Rollup
from recostack.store import deployment_repository as repo
from recostack.store.operations_tables import MonitorResultRow, RealtimeMonitorRow
from recostack.store.statistics_repository import read_rollups
from recostack.store.tables import JobStatus, ModelRow, TrainingJobRow

__all__ = ["CONDITION_TYPES", "MONITOR_METRICS", "breaches", "condition_value"]

CONDITION_TYPES = (
    "ERROR_RATE",
    "LATENCY_P99",
    "REQUEST_RATE_DROP",
    "TAKE_UP_RATE_DROP",
    "MODEL_METRIC_DROP",
    "JOB_FAILURES",
    "MONITOR_METRIC",
)
MONITOR_METRICS = ("popularityPsi", "scorePsi", "catalogCoverage", "backfillShare", "takeUpRate")


def _window(session: Session, deployment_id: str, start: datetime, end: datetime) -> Rollup:
    total = Rollup(deployment_id, "", "minute", start)
    for row in read_rollups(session.connection(), deployment_id, "minute", start, end):
        total.merge(row)
    return total


def _take_up_rate(rollup: Rollup) -> float | None:
    answered = rollup.requests - rollup.errors_4xx - rollup.errors_5xx
    return rollup.take_ups / answered if answered > 0 else None


def _drop(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before <= 0:
        return None
    return max(0.0, 1.0 - now / before)


def condition_value(
    session: Session, deployment_id: str, condition: dict[str, Any], now: datetime
) -> float | None:
    """The condition's statistic for ``deployment_id`` at ``now``."""
    kind = condition["type"]
    window = timedelta(minutes=int(condition.get("windowMinutes", 5)))
    if kind in ("ERROR_RATE", "LATENCY_P99", "REQUEST_RATE_DROP", "TAKE_UP_RATE_DROP"):
        current = _window(session, deployment_id, now - window, now)
        if kind == "ERROR_RATE":
            errors = current.errors_4xx + current.errors_5xx
            return errors / current.requests if current.requests else None
        if kind == "LATENCY_P99":
            return current.latency.percentile(0.99)
        before = _window(session, deployment_id, now - 2 * window, now - window)
        if kind == "REQUEST_RATE_DROP":
            return _drop(float(current.requests), float(before.requests))
        return _drop(_take_up_rate(current), _take_up_rate(before))
    if kind == "MODEL_METRIC_DROP":
        row = repo.get_deployment(session, deployment_id)
        served = [e["modelVersion"] for e in row.history if not e.get("rolledBackAt")]
        if len(served) < 2:
            return None
        metric = str(condition.get("metric") or "ndcg@10")
        values = [
            metric_value(model.statistics, metric) if model is not None else None
            for model in (session.get(ModelRow, m) for m in served[-2:])
        ]
        return _drop(values[1], values[0])
    if kind == "JOB_FAILURES":
        project = repo.get_deployment(session, deployment_id).project_id
        count = session.scalar(
            select(func.count())
            .select_from(TrainingJobRow)
            .join(ModelRow, ModelRow.id == TrainingJobRow.model_id)
            .where(
                ModelRow.project_id == project,
                TrainingJobRow.status == JobStatus.FAILED,
                TrainingJobRow.finished_at >= now - window,
            )
        )
        return float(count or 0)
    if kind == "MONITOR_METRIC":
        latest = session.scalar(
            select(MonitorResultRow.metrics)
            .join(RealtimeMonitorRow, RealtimeMonitorRow.id == MonitorResultRow.monitor_id)
            .where(RealtimeMonitorRow.deployment_id == deployment_id)
            .order_by(MonitorResultRow.computed_at.desc(), MonitorResultRow.id.desc())
            .limit(1)
        )
        value = (latest or {}).get(str(condition.get("metric")))
        return float(value) if isinstance(value, int | float) else None
    raise ValueError(f"unknown condition type {kind!r}")


def breaches(condition: dict[str, Any], value: float | None) -> bool:
    """Whether ``value`` breaches the condition's threshold."""
    if value is None:
        return False
    threshold = float(condition["threshold"])
    if condition.get("type") == "JOB_FAILURES":
        return value >= threshold
    if condition.get("operator") == "below":
        return value < threshold
    return value > threshold
