"""Webhooks and their delivery log: rows, events queued as deliveries, claims, outcomes.

An event (:data:`WEBHOOK_EVENTS`) of a deployment becomes one ``pending``
delivery per webhook of that deployment and event type
(:func:`enqueue_event`, in the caller's transaction: whatever caused the
event and its deliveries are stored together). The worker claims due
deliveries under a lease (:func:`claim_deliveries`: ``SKIP LOCKED`` on
PostgreSQL, one ``UPDATE ... RETURNING`` under SQLite's write lock), sends
them and records each attempt (:func:`record_attempt`): ``delivered``, or
a retry after an exponential backoff, or ``failed`` after the last attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, or_, select, update
from sqlalchemy.orm import Session

from recostack.errors import NotFound
from recostack.store.operations_tables import WebhookDeliveryRow, WebhookRow
from recostack.store.tables import utcnow

__all__ = [
    "WEBHOOK_EVENTS",
    "ClaimedDelivery",
    "claim_deliveries",
    "delete_webhooks_of",
    "enqueue_event",
    "enqueue_for_webhook",
    "get_webhook",
    "has_due_deliveries",
    "list_deliveries",
    "list_webhooks",
    "record_attempt",
]

#: every event a webhook can be called for
WEBHOOK_EVENTS = (
    "DEPLOYMENT_START",
    "DEPLOYMENT_STOP",
    "DEPLOYMENT_SUCCESS",
    "DEPLOYMENT_FAILED",
    "MODEL_TRAINED",
    "MODEL_FAILED",
    "PROMOTION_SUCCEEDED",
    "PROMOTION_FAILED",
    "ALERT_FIRING",
    "ALERT_RESOLVED",
    "BATCH_DONE",
)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery the worker holds: where to send it and what."""

    id: str
    webhook_id: str
    endpoint: str
    event_type: str
    deployment_id: str
    #: the event's data (JSON text), rendered through the webhook's template when sent
    body: str
    payload_template: dict[str, Any] | None
    secret_salt: str
    attempts: int
    created_at: datetime


def get_webhook(session: Session, webhook_id: str) -> WebhookRow:
    row = session.get(WebhookRow, webhook_id)
    if row is None:
        raise NotFound(f"webhook {webhook_id!r} does not exist", field="webhook_id")
    return row


def list_webhooks(session: Session, deployment_id: str) -> list[WebhookRow]:
    return list(
        session.scalars(
            select(WebhookRow)
            .where(WebhookRow.deployment_id == deployment_id)
            .order_by(WebhookRow.created_at, WebhookRow.id)
        )
    )


def delete_webhooks_of(session: Session, deployment_id: str) -> None:
    session.execute(delete(WebhookRow).where(WebhookRow.deployment_id == deployment_id))


def enqueue_event(
    session: Session, deployment_id: str, event_type: str, data: Mapping[str, Any]
) -> int:
    """Queue ``event_type`` for every webhook of ``deployment_id`` listening to it; how many."""
    if event_type not in WEBHOOK_EVENTS:
        raise ValueError(f"unknown webhook event {event_type!r}")
    hooks = session.scalars(
        select(WebhookRow.id).where(
            WebhookRow.deployment_id == deployment_id, WebhookRow.event_type == event_type
        )
    ).all()
    for hook in hooks:
        enqueue_for_webhook(session, hook, deployment_id, event_type, data)
    return len(hooks)


def enqueue_for_webhook(
    session: Session, webhook_id: str, deployment_id: str, event_type: str, data: Mapping[str, Any]
) -> None:
    """Queue ``event_type`` for the one webhook ``webhook_id`` (whatever event it listens to)."""
    now = utcnow()
    body = orjson.dumps(
        {"eventType": event_type, "deploymentId": deployment_id, **data},
        option=orjson.OPT_NON_STR_KEYS,
    ).decode()
    session.add(
        WebhookDeliveryRow(
            id=str(uuid.uuid4()),
            webhook_id=webhook_id,
            event_type=event_type,
            body=body,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def list_deliveries(
    session: Session, webhook_id: str, limit: int = 100
) -> list[WebhookDeliveryRow]:
    """The webhook's deliveries, newest first."""
    return list(
        session.scalars(
            select(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.webhook_id == webhook_id)
            .order_by(WebhookDeliveryRow.created_at.desc(), WebhookDeliveryRow.id)
            .limit(limit)
        )
    )


def has_due_deliveries(engine: Engine) -> bool:
    """Whether any delivery is due now (a read-only look, before a claim takes locks)."""
    with engine.execution_options(readonly=True).connect() as connection:
        found = connection.scalar(
            select(WebhookDeliveryRow.id)
            .where(
                WebhookDeliveryRow.status == PENDING,
                WebhookDeliveryRow.next_attempt_at <= utcnow(),
            )
            .limit(1)
        )
    return found is not None


def claim_deliveries(
    session: Session, owner: str, *, limit: int, lease_seconds: float
) -> list[ClaimedDelivery]:
    """Claim up to ``limit`` due deliveries for ``owner`` (each by one worker at a time)."""
    now = utcnow()
    due = (
        select(WebhookDeliveryRow.id)
        .where(
            WebhookDeliveryRow.status == PENDING,
            WebhookDeliveryRow.next_attempt_at <= now,
            or_(
                WebhookDeliveryRow.lease_expires_at.is_(None),
                WebhookDeliveryRow.lease_expires_at < now,
            ),
        )
        .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
        .limit(limit)
    )
    claim = update(WebhookDeliveryRow).values(
        lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds)
    )
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(due.with_for_update(skip_locked=True)))
        if not ids:
            return []
        session.execute(
            claim.where(WebhookDeliveryRow.id.in_(ids)).execution_options(synchronize_session=False)
        )
    else:
        ids = list(
            session.scalars(
                claim.where(WebhookDeliveryRow.id.in_(due.scalar_subquery()))
                .returning(WebhookDeliveryRow.id)
                .execution_options(synchronize_session=False)
            )
        )
        if not ids:
            return []
    rows = session.execute(
        select(WebhookDeliveryRow, WebhookRow)
        .join(WebhookRow, WebhookRow.id == WebhookDeliveryRow.webhook_id)
        .where(WebhookDeliveryRow.id.in_(ids))
        .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
    ).all()
    return [
        ClaimedDelivery(
            delivery.id,
            hook.id,
            hook.endpoint,
            delivery.event_type,
            hook.deployment_id,
            delivery.body,
            hook.payload_template,
            hook.secret_salt,
            delivery.attempts,
            delivery.created_at,
        )
        for delivery, hook in rows
    ]


def record_attempt(
    connection: Connection,
    delivery: ClaimedDelivery,
    owner: str,
    *,
    status_code: int | None,
    error: str | None,
    max_attempts: int,
    backoff_seconds: float,
) -> str:
    """Record one attempt (``error`` ``None``: delivered); the delivery's new status."""
    attempts = delivery.attempts + 1
    now = utcnow()
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": status_code,
        "last_error": error,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if error is None:
        values.update(status=DELIVERED, delivered_at=now)
    elif attempts >= max_attempts:
        values.update(status=FAILED)
    else:
        delay = min(backoff_seconds * 2 ** (attempts - 1), 3600.0)
        values.update(next_attempt_at=now + timedelta(seconds=delay))
    connection.execute(
        update(WebhookDeliveryRow)
        .where(WebhookDeliveryRow.id == delivery.id, WebhookDeliveryRow.lease_owner == owner)
        .values(**values)
    )
    return str(values.get("status", PENDING))
