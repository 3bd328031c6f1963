"""The realtime monitor of a deployment: its answers of a lookback window against training data.

``create_realtime_monitor(realtime_monitor_schedule, lookback_time)``: a
cron schedule (default hourly) and a lookback (seconds, default a day).
At each due time the worker's scheduler (one process: a compare-and-set on
the monitor's next run) reads the deployment's logged answers of the
window (the newest ``MAX_ANSWERS``) and the model that gave most of them,
and keeps what it found (:func:`measure`):

- ``popularityPsi``: PSI of the recommended items over ten popularity groups
  of the catalog against the training interactions over the same groups;
- ``scorePsi``: PSI of the scores over the deciles of the first result
  measured for this model (its baseline; 0 for the baseline itself), with
  ``scoreMean``, ``scoreP50``, ``scoreP95``;
- ``catalogCoverage``: distinct items recommended / items of the model;
- ``backfillShare``: answers ending with popularity fillers / answers;
- ``takeUpRate``: take-ups recorded in the window / answers.

Results are read over HTTP and by alerts (``MONITOR_METRIC``).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recostack.errors import Conflict, NotFound
from recostack.evaluation.drift import is_backfilled, popularity_groups, psi
from recostack.services.refresh_policies import check_cron, next_due
from recostack.settings import Settings
from recostack.store import deployment_repository as repo
from recostack.store.deployment_tables import PredictionLogRow, ResponseLogRow
from recostack.store.engine import Database
from recostack.store.operations_tables import MonitorResultRow, RealtimeMonitorRow
from recostack.store.tables import utcnow
from recostack.training.trained_model import TrainedModel

__all__ = ["MAX_ANSWERS", "RealtimeMonitorService", "measure", "run_due_monitors"]

logger = logging.getLogger(__name__)

DEFAULT_SCHEDULE = "0 * * * *"
DEFAULT_LOOKBACK_SECONDS = 86_400
#: the newest answers of a window a run reads
MAX_ANSWERS = 100_000


class RealtimeMonitorService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def create(
        self, deployment_id: str, schedule: str | None, lookback_seconds: int | None
    ) -> RealtimeMonitorRow:
        schedule = schedule or DEFAULT_SCHEDULE
        check_cron(schedule, "realtimeMonitorSchedule")
        with self.db.transaction() as session:
            repo.get_deployment(session, deployment_id)
            if _find(session, deployment_id) is not None:
                raise Conflict(
                    f"deployment {deployment_id!r} has a realtime monitor already: delete it first",
                    field="deployment_id",
                )
            monitor = RealtimeMonitorRow(
                id=str(uuid.uuid4()),
                deployment_id=deployment_id,
                schedule=schedule,
                lookback_seconds=lookback_seconds or DEFAULT_LOOKBACK_SECONDS,
                next_run_at=next_due(schedule, utcnow()),
                created_at=utcnow(),
            )
            session.add(monitor)
        return monitor

    def describe(self, deployment_id: str) -> tuple[RealtimeMonitorRow, list[MonitorResultRow]]:
        with self.db.transaction() as session:
            repo.get_deployment(session, deployment_id)
            monitor = _find(session, deployment_id)
            if monitor is None:
                raise NotFound(
                    f"deployment {deployment_id!r} has no realtime monitor", field="deployment_id"
                )
            results = list(
                session.scalars(
                    select(MonitorResultRow)
                    .where(MonitorResultRow.monitor_id == monitor.id)
                    .order_by(MonitorResultRow.computed_at.desc(), MonitorResultRow.id.desc())
                    .limit(100)
                )
            )
            return monitor, results

    def delete(self, deployment_id: str) -> None:
        with self.db.transaction() as session:
            monitor = _find(session, deployment_id)
            if monitor is None:
                raise NotFound(
                    f"deployment {deployment_id!r} has no realtime monitor", field="deployment_id"
                )
            session.delete(monitor)

    def run_now(self, deployment_id: str) -> MonitorResultRow:
        monitor, _ = self.describe(deployment_id)
        return run_monitor(self.db, self.settings, monitor.id, utcnow())


def _find(session: Session, deployment_id: str) -> RealtimeMonitorRow | None:
    return session.scalar(
        select(RealtimeMonitorRow).where(RealtimeMonitorRow.deployment_id == deployment_id)
    )


def realtime_monitor_id(session: Session, deployment_id: str) -> str | None:
    """The describe body's ``realtimeMonitorId``."""
    return session.scalar(
        select(RealtimeMonitorRow.id).where(RealtimeMonitorRow.deployment_id == deployment_id)
    )


def run_due_monitors(db: Database, settings: Settings, now: datetime | None = None) -> int:
    """Run every monitor that is due (each due time by one process); how many ran."""
    now = now or utcnow()
    with db.engine.execution_options(readonly=True).connect() as connection:  # no write lock
        due = connection.execute(
            select(
                RealtimeMonitorRow.id, RealtimeMonitorRow.next_run_at, RealtimeMonitorRow.schedule
            ).where(RealtimeMonitorRow.next_run_at <= now)
        ).all()
    ran = 0
    for monitor_id, at, schedule in due:
        with db.transaction() as session:
            taken = session.execute(
                update(RealtimeMonitorRow)
                .where(RealtimeMonitorRow.id == monitor_id, RealtimeMonitorRow.next_run_at == at)
                .values(next_run_at=next_due(schedule, max(at, now)))
                .execution_options(synchronize_session=False)
            )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue
        try:
            run_monitor(db, settings, monitor_id, now)
            ran += 1
        except Exception as exc:
            logger.warning("realtime monitor %s failed", monitor_id, exc_info=True)
            with db.transaction() as session:
                monitor = session.get(RealtimeMonitorRow, monitor_id)
                if monitor is not None:
                    monitor.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    return ran


def run_monitor(
    db: Database, settings: Settings, monitor_id: str, now: datetime
) -> MonitorResultRow:
    """Measure the monitor's window ending ``now`` and keep the result."""
    with db.transaction() as session:
        monitor = session.get(RealtimeMonitorRow, monitor_id)
        if monitor is None:
            raise NotFound(f"realtime monitor {monitor_id!r} does not exist", field="monitor_id")
        start = now - timedelta(seconds=monitor.lookback_seconds)
        deployment_id = monitor.deployment_id
        answers = session.execute(
            select(PredictionLogRow.model_id, PredictionLogRow.items)
            .where(
                PredictionLogRow.deployment_id == deployment_id,
                PredictionLogRow.created_at >= start,
                PredictionLogRow.created_at < now,
            )
            .order_by(PredictionLogRow.created_at.desc())
            .limit(MAX_ANSWERS)
        ).all()
        take_ups = session.scalar(
            select(func.count())
            .select_from(ResponseLogRow)
            .where(
                ResponseLogRow.deployment_id == deployment_id,
                ResponseLogRow.take_up.is_(True),
                ResponseLogRow.created_at >= start,
                ResponseLogRow.created_at < now,
            )
        )
    model_id = Counter(a[0] for a in answers).most_common(1)[0][0] if answers else None
    metrics: dict[str, Any] = {"answers": len(answers), "takeUps": int(take_ups or 0)}
    if model_id is not None:
        model = TrainedModel.load(settings.models_dir / model_id)
        baseline = _baseline(db, monitor_id, model_id)
        metrics.update(measure(model, [a[1] for a in answers if a[0] == model_id], baseline))
    metrics["takeUpRate"] = metrics["takeUps"] / len(answers) if answers else None
    with db.transaction() as session:
        result = MonitorResultRow(
            monitor_id=monitor_id,
            computed_at=now,
            window_start=start,
            window_end=now,
            model_id=model_id,
            metrics=metrics,
        )
        session.add(result)
        monitor = session.get(RealtimeMonitorRow, monitor_id)
        if monitor is not None:
            monitor.last_run_at, monitor.last_error = now, None
    return result


def _baseline(db: Database, monitor_id: str, model_id: str) -> list[float] | None:
    """The score deciles of the first result measured for ``model_id``."""
    with db.transaction() as session:
        earliest = session.scalars(
            select(MonitorResultRow.metrics)
            .where(MonitorResultRow.monitor_id == monitor_id, MonitorResultRow.model_id == model_id)
            .order_by(MonitorResultRow.computed_at, MonitorResultRow.id)
            .limit(50)
        ).all()
    for metrics in earliest:
        edges = (metrics or {}).get("scoreDeciles")
        if isinstance(edges, list) and edges:
            return [float(e) for e in edges]
    return None


def measure(
    model: TrainedModel, answers: list[list[dict[str, Any]]], baseline: list[float] | None
) -> dict[str, Any]:
    """The drift figures of ``answers`` (each a logged list of items) against ``model``."""
    lookup = model.items.lookup
    popularity = model.item_item.popularity
    groups, expected = popularity_groups(popularity)
    seen = np.zeros(model.n_items, dtype=bool)
    group_counts = np.zeros(expected.shape[0], dtype=np.float64)
    scores: list[float] = []
    backfilled = 0
    for items in answers:
        indices = np.array(
            [j for i in items if (j := lookup.get(str(i.get("itemId")))) is not None],
            dtype=np.int64,
        )
        values = np.array(
            [float(i.get("score", 0.0)) for i in items if str(i.get("itemId")) in lookup],
            dtype=np.float32,
        )
        seen[indices] = True
        group_counts += np.bincount(groups[indices], minlength=expected.shape[0])
        scores.extend(values.tolist())
        backfilled += is_backfilled(indices, values, popularity)
    found: dict[str, Any] = {
        "catalogCoverage": float(seen.sum()) / model.n_items if model.n_items else None,
        "distinctItems": int(seen.sum()),
        "backfillShare": backfilled / len(answers) if answers else None,
    }
    if group_counts.sum() > 0:
        found["popularityPsi"] = psi(expected, group_counts / group_counts.sum())
        found["popularityGroups"] = (group_counts / group_counts.sum()).round(6).tolist()
    if scores:
        values = np.asarray(scores, dtype=np.float64)
        deciles = np.quantile(values, np.linspace(0.1, 0.9, 9)).tolist()
        found.update(
            scoreMean=float(values.mean()),
            scoreP50=float(np.quantile(values, 0.5)),
            scoreP95=float(np.quantile(values, 0.95)),
            scoreDeciles=deciles,
        )
        edges = np.asarray(baseline if baseline is not None else deciles)
        shares = np.bincount(np.searchsorted(edges, values, side="right"), minlength=10) / len(
            values
        )
        found["scorePsi"] = psi(np.full(10, 0.1), shares) if baseline is not None else 0.0
    return found
