"""Webhooks as use cases: create (the secret shown once), list, delete, and delivering them.

:func:`deliver_due` is the worker's part (the scheduler calls it every
tick): claim the deliveries that are due, POST each payload signed with
its webhook's secret, record the attempt. A request never waits on a
webhook: an event only queues deliveries, in the transaction of whatever
caused it (:func:`~recostack.store.webhook_repository.enqueue_event`).
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from recostack.services.webhook_payloads import (
    SIGNATURE_HEADER,
    check_template,
    derive_secret,
    render,
    signature,
)
from recostack.settings import Settings
from recostack.store import deployment_repository as repo
from recostack.store.engine import Database
from recostack.store.operations_tables import WebhookDeliveryRow, WebhookRow
from recostack.store.server_secret import server_secret
from recostack.store.webhook_repository import (
    ClaimedDelivery,
    claim_deliveries,
    get_webhook,
    has_due_deliveries,
    list_deliveries,
    list_webhooks,
    record_attempt,
)

__all__ = ["WebhookService", "deliver_due", "server_key"]

logger = logging.getLogger(__name__)


def server_key(settings: Settings) -> bytes:
    """The key webhook secrets derive from: the server secret
    (:func:`recostack.store.server_secret.server_secret`)."""
    return server_secret(settings)


class WebhookService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def create(
        self,
        deployment_id: str,
        endpoint: str,
        event_type: str,
        payload_template: Mapping[str, Any] | None,
    ) -> tuple[WebhookRow, str]:
        """A new webhook of the deployment, and its secret (never shown again)."""
        if payload_template is not None:
            check_template(dict(payload_template))
        salt = secrets.token_hex(16)
        with self.db.transaction() as session:
            repo.get_deployment(session, deployment_id)
            row = WebhookRow(
                id=str(uuid.uuid4()),
                deployment_id=deployment_id,
                endpoint=endpoint,
                event_type=event_type,
                payload_template=dict(payload_template) if payload_template else None,
                secret_salt=salt,
            )
            session.add(row)
        return row, derive_secret(server_key(self.settings), row.id, salt)

    def of_deployment(self, deployment_id: str) -> list[WebhookRow]:
        with self.db.transaction() as session:
            repo.get_deployment(session, deployment_id)
            return list_webhooks(session, deployment_id)

    def describe(self, webhook_id: str) -> WebhookRow:
        with self.db.transaction() as session:
            return get_webhook(session, webhook_id)

    def delete(self, webhook_id: str) -> None:
        with self.db.transaction() as session:
            session.delete(get_webhook(session, webhook_id))

    def deliveries(self, webhook_id: str, limit: int = 100) -> list[WebhookDeliveryRow]:
        with self.db.transaction() as session:
            get_webhook(session, webhook_id)
            return list_deliveries(session, webhook_id, limit)


def _payload(delivery: ClaimedDelivery, attempt: int) -> bytes:
    event = orjson.loads(delivery.body)
    data = {k: v for k, v in event.items() if k not in ("eventType", "deploymentId")}
    envelope = {
        "eventType": delivery.event_type,
        "deploymentId": delivery.deployment_id,
        "timestamp": delivery.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "deliveryId": delivery.id,
    }
    if delivery.payload_template is None:
        return orjson.dumps({**envelope, "data": data})
    values = {**data, **envelope, "attempt": attempt, "data": data}
    return orjson.dumps(render(delivery.payload_template, values))


def _send(
    http: httpx.Client, delivery: ClaimedDelivery, secret: str
) -> tuple[int | None, str | None]:
    attempt = delivery.attempts + 1
    body = _payload(delivery, attempt)
    headers = {
        "content-type": "application/json",
        "user-agent": "Recostack-Webhooks",
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        "X-Recostack-Event": delivery.event_type,
        "X-Recostack-Delivery": delivery.id,
        "X-Recostack-Attempt": str(attempt),
    }
    try:
        answer = http.post(delivery.endpoint, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= answer.status_code < 300:
        return answer.status_code, None
    return answer.status_code, f"HTTP {answer.status_code}: {answer.text[:200]}"


def deliver_due(db: Database, settings: Settings, owner: str, *, limit: int = 20) -> int:
    """Send the deliveries that are due (at most ``limit``); how many were attempted."""
    if not has_due_deliveries(db.engine):  # most ticks: a read, no write lock
        return 0
    with db.transaction() as session:
        # the lease outlasts sending every claimed delivery, each up to its timeout
        lease = settings.webhook_timeout_seconds * (limit + 1) + 5
        claimed = claim_deliveries(session, owner, limit=limit, lease_seconds=lease)
    if not claimed:
        return 0
    key = server_key(settings)
    with httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as http:
        for delivery in claimed:
            secret = derive_secret(key, delivery.webhook_id, delivery.secret_salt)
            status_code, error = _send(http, delivery, secret)
            with db.engine.begin() as connection:
                outcome = record_attempt(
                    connection,
                    delivery,
                    owner,
                    status_code=status_code,
                    error=error,
                    max_attempts=settings.webhook_max_attempts,
                    backoff_seconds=settings.webhook_backoff_seconds,
                )
            if error is not None:
                logger.info(
                    "webhook %s delivery %s attempt %d: %s (%s)",
                    delivery.webhook_id,
                    delivery.id,
                    delivery.attempts + 1,
                    error,
                    outcome,
                )
    return len(claimed)
