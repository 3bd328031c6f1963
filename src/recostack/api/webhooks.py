"""Webhooks of a deployment (admin key): the reference's ``create_webhook``, ``list_webhooks``.

Creating one answers its signing secret, once (``secret``); every delivery
carries ``X-Recostack-Signature: t=<unix time>,v1=<HMAC-SHA256 hex of
"<t>.<body>">``. Deliveries are sent by the workers, retried with a
backoff, and listed with their status (``.../deliveries``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from recostack.api.deps import AdminKey
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import DeploymentName
from recostack.api.operations_schemas import (
    WebhookCreate,
    WebhookDeliveryPublic,
    WebhookPublic,
    wire_time,
)
from recostack.services.webhooks import WebhookService
from recostack.store.operations_tables import WebhookDeliveryRow, WebhookRow

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["webhooks"], responses=ERROR_RESPONSES)

DeploymentId = Annotated[DeploymentName, Path(description="the deployment's name")]
WebhookId = Annotated[str, Path(max_length=36, description="the webhook's id")]


async def _service(request: Request) -> WebhookService:
    service: WebhookService = request.app.state.webhooks
    return service


ServiceDep = Annotated[WebhookService, Depends(_service)]


def public(row: WebhookRow, secret: str | None = None) -> WebhookPublic:
    return WebhookPublic(
        webhook_id=row.id,
        deployment_id=row.deployment_id,
        endpoint=row.endpoint,
        webhook_event_type=row.event_type,
        payload_template=row.payload_template,
        created_at=wire_time(row.created_at),
        secret=secret,
    )


def delivery_public(row: WebhookDeliveryRow) -> WebhookDeliveryPublic:
    return WebhookDeliveryPublic(
        delivery_id=row.id,
        webhook_id=row.webhook_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        next_attempt_at=wire_time(row.next_attempt_at) if row.status == "pending" else None,
        created_at=wire_time(row.created_at),
        delivered_at=wire_time(row.delivered_at),
    )


@router.post(
    "/deployments/{deployment_id}/webhooks",
    status_code=201,
    summary="Create a webhook (its signing secret is in this answer only)",
    response_model=WebhookPublic,
    response_model_exclude_none=False,
    responses=error_responses(e404="no such deployment"),
)
def create_webhook(
    deployment_id: DeploymentId, body: WebhookCreate, service: ServiceDep, _: AdminKey
) -> WebhookPublic:
    row, secret = service.create(
        deployment_id, str(body.endpoint), body.webhook_event_type, body.payload_template
    )
    return public(row, secret)


@router.get(
    "/deployments/{deployment_id}/webhooks",
    summary="List a deployment's webhooks",
    response_model=list[WebhookPublic],
    responses=error_responses(e404="no such deployment"),
)
def list_webhooks(
    deployment_id: DeploymentId, service: ServiceDep, _: AdminKey
) -> list[WebhookPublic]:
    return [public(row) for row in service.of_deployment(deployment_id)]


@router.get(
    "/webhooks/{webhook_id}",
    summary="Describe a webhook",
    response_model=WebhookPublic,
    responses=error_responses(e404="no such webhook"),
)
def describe_webhook(webhook_id: WebhookId, service: ServiceDep, _: AdminKey) -> WebhookPublic:
    return public(service.describe(webhook_id))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    summary="Delete a webhook (and its delivery log)",
    responses=error_responses(e404="no such webhook"),
)
def delete_webhook(webhook_id: WebhookId, service: ServiceDep, _: AdminKey) -> Response:
    service.delete(webhook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    summary="The webhook's delivery log, newest first (status, attempts, last error)",
    response_model=list[WebhookDeliveryPublic],
    responses=error_responses(e404="no such webhook"),
)
def list_deliveries(
    webhook_id: WebhookId,
    service: ServiceDep,
    _: AdminKey,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[WebhookDeliveryPublic]:
    return [delivery_public(row) for row in service.deliveries(webhook_id, limit)]
