"""Alerts of a deployment (admin key): the reference's ``create_alert(alert_name,
condition_config, action_config)`` and ``list_alerts``; describe (with the state history),
delete. The workers' scheduler evaluates them (:mod:`recostack.services.alerts`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from recostack.api.deps import AdminKey
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import DeploymentName
from recostack.api.operations_schemas import (
    AlertCreate,
    AlertEventPublic,
    AlertPublic,
    wire_time,
)
from recostack.services.alerts import AlertService, describe_condition
from recostack.store.operations_tables import AlertEventRow, AlertRow

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["alerts"], responses=ERROR_RESPONSES)

DeploymentId = Annotated[DeploymentName, Path(description="the deployment's name")]
AlertId = Annotated[str, Path(max_length=36, description="the alert's id")]


async def _service(request: Request) -> AlertService:
    service: AlertService = request.app.state.alerts
    return service


ServiceDep = Annotated[AlertService, Depends(_service)]


def public(row: AlertRow, history: list[AlertEventRow] | None = None) -> AlertPublic:
    return AlertPublic(
        alert_id=row.id,
        name=row.name,
        deployment_id=row.deployment_id,
        condition_config=row.condition,
        action_config=row.action,
        condition_description=describe_condition(row.condition),
        state=row.state,
        state_since=wire_time(row.state_since),
        last_value=row.last_value,
        last_evaluated_at=wire_time(row.last_evaluated_at),
        created_at=wire_time(row.created_at),
        history=[
            AlertEventPublic(state=e.state, value=e.value, message=e.message, at=wire_time(e.at))
            for e in history or []
        ],
    )


@router.post(
    "/deployments/{deployment_id}/alerts",
    status_code=201,
    summary="Create an alert: a condition on a statistic, and an action",
    response_model=AlertPublic,
    responses=error_responses(
        e404="no such deployment or webhook",
        e422="the metric does not fit the condition's type, or the webhook belongs to another "
        "deployment",
    ),
)
def create_alert(
    deployment_id: DeploymentId, body: AlertCreate, service: ServiceDep, _: AdminKey
) -> AlertPublic:
    condition = body.condition_config.model_dump(by_alias=True, exclude_none=True)
    action = body.action_config.model_dump(by_alias=True, exclude_none=True)
    return public(service.create(deployment_id, body.alert_name, condition, action))


@router.get(
    "/deployments/{deployment_id}/alerts",
    summary="List a deployment's alerts",
    response_model=list[AlertPublic],
    responses=error_responses(e404="no such deployment"),
)
def list_alerts(deployment_id: DeploymentId, service: ServiceDep, _: AdminKey) -> list[AlertPublic]:
    return [public(row) for row in service.of_deployment(deployment_id)]


@router.get(
    "/alerts/{alert_id}",
    summary="Describe an alert, with the history of its states (newest first)",
    response_model=AlertPublic,
    responses=error_responses(e404="no such alert"),
)
def describe_alert(alert_id: AlertId, service: ServiceDep, _: AdminKey) -> AlertPublic:
    row, history = service.describe(alert_id)
    return public(row, history)


@router.delete(
    "/alerts/{alert_id}",
    status_code=204,
    summary="Delete an alert",
    responses=error_responses(e404="no such alert"),
)
def delete_alert(alert_id: AlertId, service: ServiceDep, _: AdminKey) -> Response:
    service.delete(alert_id)
    return Response(status_code=204)
