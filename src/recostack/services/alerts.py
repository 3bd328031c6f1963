"""Alerts: a condition on a deployment's statistic, an action, a state and its history.

An alert is evaluated by the worker's scheduler every
``alert_evaluation_seconds`` (:func:`evaluate_due_alerts`; one process
takes each evaluation: the alert's next evaluation time is moved with a
compare-and-set). Each evaluation that breaches the threshold
(:mod:`~recostack.services.alert_conditions`) is remembered for the
condition's ``periodMinutes``; the alert fires once there were
``occurrences`` of them in that period ("N times in T minutes"), and is
resolved at the first evaluation that does not breach. Its state goes
OK → FIRING → RESOLVED (→ FIRING ...), each change kept in its history
and acted on: ``WEBHOOK`` queues ``ALERT_FIRING`` / ``ALERT_RESOLVED`` for
the deployment's webhooks of that event (or for the one ``webhookId``
names), ``LOG`` writes a warning to the worker's log.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recostack.errors import NotFound, Unprocessable
from recostack.services.alert_conditions import MONITOR_METRICS, breaches, condition_value
from recostack.settings import Settings
from recostack.store import deployment_repository as repo
from recostack.store.engine import Database
from recostack.store.operations_tables import AlertEventRow, AlertRow, WebhookRow
from recostack.store.tables import utcnow
from recostack.store.webhook_repository import enqueue_event, enqueue_for_webhook, get_webhook

__all__ = ["AlertService", "evaluate_due_alerts"]

logger = logging.getLogger(__name__)

OK, FIRING, RESOLVED = "OK", "FIRING", "RESOLVED"


def describe_condition(condition: Mapping[str, Any]) -> str:
    kind = condition["type"]
    window = condition.get("windowMinutes", 5)
    metric = f" {condition['metric']}" if condition.get("metric") else ""
    operator = "<" if condition.get("operator") == "below" else ">"
    if kind == "JOB_FAILURES":
        operator = ">="
    times = condition.get("occurrences", 1)
    period = condition.get("periodMinutes", window)
    repeat = f", {times} times in {period} min" if times > 1 else ""
    return f"{kind}{metric} {operator} {condition['threshold']} over {window} min{repeat}"


class AlertService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def create(
        self,
        deployment_id: str,
        name: str,
        condition: Mapping[str, Any],
        action: Mapping[str, Any],
    ) -> AlertRow:
        _check_metric(condition)
        now = utcnow()
        with self.db.transaction() as session:
            repo.get_deployment(session, deployment_id)
            hook = action.get("webhookId")
            if hook is not None and get_webhook(session, hook).deployment_id != deployment_id:
                raise Unprocessable(
                    f"webhook {hook} belongs to another deployment", field="actionConfig.webhookId"
                )
            alert = AlertRow(
                id=str(uuid.uuid4()),
                deployment_id=deployment_id,
                name=name,
                condition=dict(condition),
                action=dict(action),
                state=OK,
                state_since=now,
                breaches=[],
                next_evaluation_at=now,
                created_at=now,
            )
            session.add(alert)
        return alert

    def of_deployment(self, deployment_id: str) -> list[AlertRow]:
        with self.db.transaction() as session:
            repo.get_deployment(session, deployment_id)
            return list(
                session.scalars(
                    select(AlertRow)
                    .where(AlertRow.deployment_id == deployment_id)
                    .order_by(AlertRow.created_at, AlertRow.id)
                )
            )

    def describe(self, alert_id: str) -> tuple[AlertRow, list[AlertEventRow]]:
        with self.db.transaction() as session:
            alert = _get(session, alert_id)
            history = list(
                session.scalars(
                    select(AlertEventRow)
                    .where(AlertEventRow.alert_id == alert_id)
                    .order_by(AlertEventRow.at.desc(), AlertEventRow.id.desc())
                    .limit(100)
                )
            )
            return alert, history

    def delete(self, alert_id: str) -> None:
        with self.db.transaction() as session:
            session.delete(_get(session, alert_id))


def _check_metric(condition: Mapping[str, Any]) -> None:
    """The condition names the kind of metric its type reads (:class:`Unprocessable`)."""
    kind, metric = condition["type"], condition.get("metric")
    field = "conditionConfig.metric"
    if kind == "MONITOR_METRIC" and metric not in MONITOR_METRICS:
        raise Unprocessable(f"a MONITOR_METRIC names one of {list(MONITOR_METRICS)}", field=field)
    if kind == "MODEL_METRIC_DROP" and (metric is None or "@" not in metric):
        raise Unprocessable("a MODEL_METRIC_DROP names ndcg@k, precision@k, ...", field=field)
    if kind not in ("MONITOR_METRIC", "MODEL_METRIC_DROP") and metric is not None:
        raise Unprocessable(f"{kind} takes no metric", field=field)


def _get(session: Session, alert_id: str) -> AlertRow:
    alert = session.get(AlertRow, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id!r} does not exist", field="alert_id")
    return alert


def evaluate_due_alerts(db: Database, settings: Settings, now: datetime | None = None) -> int:
    """Evaluate every alert whose evaluation is due (each by one process); how many."""
    now = now or utcnow()
    with db.engine.execution_options(readonly=True).connect() as connection:  # no write lock
        due = connection.execute(
            select(AlertRow.id, AlertRow.next_evaluation_at).where(
                AlertRow.next_evaluation_at <= now
            )
        ).all()
    done = 0
    every = timedelta(seconds=settings.alert_evaluation_seconds)
    for alert_id, at in due:
        try:
            with db.transaction() as session:
                taken = session.execute(
                    update(AlertRow)
                    .where(AlertRow.id == alert_id, AlertRow.next_evaluation_at == at)
                    .values(next_evaluation_at=now + every)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    continue  # another scheduler evaluates it
                alert = session.get(AlertRow, alert_id)
                if alert is not None:
                    _evaluate(session, alert, now)
                    done += 1
        except Exception:
            logger.warning("alert %s could not be evaluated", alert_id, exc_info=True)
    return done


def _evaluate(session: Session, alert: AlertRow, now: datetime) -> None:
    condition = alert.condition
    try:
        value = condition_value(session, alert.deployment_id, condition, now)
    except NotFound:  # the deployment is gone
        value = None
    breached = breaches(condition, value)
    minutes = condition.get("periodMinutes") or condition.get("windowMinutes", 5)
    period = timedelta(minutes=int(minutes))
    times = [t for t in alert.breaches if datetime.fromisoformat(t) > now - period]
    if breached:
        times.append(now.isoformat())
    alert.breaches = times
    alert.last_value = value
    alert.last_evaluated_at = now
    firing = breached and len(times) >= int(condition.get("occurrences", 1))
    if firing and alert.state != FIRING:
        _change(session, alert, FIRING, value, now)
    elif not breached and alert.state == FIRING:
        _change(session, alert, RESOLVED, value, now)


def _change(
    session: Session, alert: AlertRow, state: str, value: float | None, now: datetime
) -> None:
    condition = describe_condition(alert.condition)
    shown = "no data" if value is None else f"{value:.6g}"
    message = f"alert {alert.name!r} {state}: {condition} (value {shown})"
    alert.state, alert.state_since = state, now
    session.add(AlertEventRow(alert_id=alert.id, state=state, value=value, message=message, at=now))
    action = alert.action
    if action.get("type") == "LOG":
        logger.warning("deployment %s: %s", alert.deployment_id, message)
        return
    event = "ALERT_FIRING" if state == FIRING else "ALERT_RESOLVED"
    data = {
        "alertId": alert.id,
        "alertName": alert.name,
        "state": state,
        "value": value,
        "threshold": alert.condition.get("threshold"),
        "condition": condition,
        "message": message,
    }
    hook = action.get("webhookId")
    if hook is not None and session.get(WebhookRow, str(hook)) is not None:
        enqueue_for_webhook(session, str(hook), alert.deployment_id, event, data)
    else:  # every webhook of the deployment listening to the event
        enqueue_event(session, alert.deployment_id, event, data)
