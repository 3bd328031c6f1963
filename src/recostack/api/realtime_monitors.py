"""The realtime monitor of a deployment (admin key): the reference's
``create_realtime_monitor(realtime_monitor_schedule, lookback_time)``; describe (with its
results, newest first), run now, delete (:mod:`recostack.services.realtime_monitor`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from recostack.api.deps import AdminKey
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import DeploymentName
from recostack.api.operations_schemas import (
    MonitorResultPublic,
    RealtimeMonitorCreate,
    RealtimeMonitorPublic,
    wire_time,
)
from recostack.services.realtime_monitor import RealtimeMonitorService
from recostack.store.operations_tables import MonitorResultRow, RealtimeMonitorRow

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["realtime monitor"], responses=ERROR_RESPONSES)

DeploymentId = Annotated[DeploymentName, Path(description="the deployment's name")]
_PATH = "/deployments/{deployment_id}/realtime-monitor"
_NO_MONITOR = error_responses(e404="no such deployment, or it has no realtime monitor")


async def _service(request: Request) -> RealtimeMonitorService:
    service: RealtimeMonitorService = request.app.state.realtime_monitors
    return service


ServiceDep = Annotated[RealtimeMonitorService, Depends(_service)]


def result_public(row: MonitorResultRow) -> MonitorResultPublic:
    return MonitorResultPublic(
        computed_at=wire_time(row.computed_at),
        window_start=wire_time(row.window_start),
        window_end=wire_time(row.window_end),
        model_id=row.model_id,
        metrics=row.metrics,
    )


def public(
    row: RealtimeMonitorRow, results: list[MonitorResultRow] | None = None
) -> RealtimeMonitorPublic:
    return RealtimeMonitorPublic(
        realtime_monitor_id=row.id,
        deployment_id=row.deployment_id,
        realtime_monitor_schedule=row.schedule,
        lookback_time=row.lookback_seconds,
        next_run_time=wire_time(row.next_run_at),
        last_run_time=wire_time(row.last_run_at),
        error=row.last_error,
        created_at=wire_time(row.created_at),
        results=[result_public(r) for r in results or []],
    )


@router.post(
    _PATH,
    status_code=201,
    summary="Create the deployment's realtime monitor",
    response_model=RealtimeMonitorPublic,
    responses=error_responses(
        e404="no such deployment",
        e409="the deployment has a realtime monitor already",
        e422="the schedule names no time croniter can compute",
    ),
)
def create_realtime_monitor(
    deployment_id: DeploymentId, body: RealtimeMonitorCreate, service: ServiceDep, _: AdminKey
) -> RealtimeMonitorPublic:
    row = service.create(deployment_id, body.realtime_monitor_schedule, body.lookback_time)
    return public(row)


@router.get(
    _PATH,
    summary="Describe the realtime monitor, with its latest results",
    response_model=RealtimeMonitorPublic,
    responses=_NO_MONITOR,
)
def describe_realtime_monitor(
    deployment_id: DeploymentId, service: ServiceDep, _: AdminKey
) -> RealtimeMonitorPublic:
    row, results = service.describe(deployment_id)
    return public(row, results)


@router.post(
    f"{_PATH}/run",
    summary="Measure the lookback window now",
    response_model=MonitorResultPublic,
    responses=_NO_MONITOR,
)
def run_realtime_monitor(
    deployment_id: DeploymentId, service: ServiceDep, _: AdminKey
) -> MonitorResultPublic:
    return result_public(service.run_now(deployment_id))


@router.delete(_PATH, status_code=204, summary="Delete the realtime monitor", responses=_NO_MONITOR)
def delete_realtime_monitor(
    deployment_id: DeploymentId, service: ServiceDep, _: AdminKey
) -> Response:
    service.delete(deployment_id)
    return Response(status_code=204)
