"""Deployments: create, describe, list, update, start, stop, delete, promote, roll back; logs.

Management needs the admin key; ``responses`` accepts the recommend key
(the recommend and responses endpoints are :mod:`recostack.api.deployment_recommend` and
:mod:`recostack.api.deployment_responses`).
``?version=`` addresses one version of a deployment; without it,
management addresses the newest version. Loading and switching models
happens in the background: ``start``, ``set-model-version`` and
``rollback`` answer at once with the deployment (``DEPLOYING`` or a
``pendingModelVersion``); poll ``GET`` (the SDK's ``wait_for_deployment``).
Each route parses and calls :class:`~recostack.services.deployments.DeploymentService`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from recostack.api.deployment_public import (
    DeploymentPublic,
    PredictionLogPublic,
    ResponseLogPublic,
)
from recostack.api.deployment_schemas import (
    DefaultArgumentsUpdate,
    DeploymentCreate,
    DeploymentUpdate,
    ModelVersionUpdate,
)
from recostack.api.deps import AdminKey
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import DeploymentName, ProjectId, VersionName
from recostack.services.deployment_logs import DeploymentLogs
from recostack.services.deployments import DeploymentService
from recostack.store.prediction_log_repository import LogKind

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["deployments"], responses=ERROR_RESPONSES)

DeploymentId = Annotated[DeploymentName, Path(description="the deployment's name")]
Version = Annotated[VersionName | None, Query(description="a version (default: the newest)")]
MAX_LOG_PAGE = 1000
_NOT_FOUND = error_responses(e404="no such deployment")


async def _service(request: Request) -> DeploymentService:
    service: DeploymentService = request.app.state.deployment_service
    return service


async def _logs(request: Request) -> DeploymentLogs:
    logs: DeploymentLogs = request.app.state.deployment_logs
    return logs


ServiceDep = Annotated[DeploymentService, Depends(_service)]
LogsDep = Annotated[DeploymentLogs, Depends(_logs)]


# --- management (admin key) ------------------------------------------------------------


@router.post(
    "/projects/{project_id}/deployments",
    status_code=201,
    summary="Create a deployment version (and start deploying it)",
    response_model=DeploymentPublic,
    responses=error_responses(
        e404="no such project or model",
        e409="the (deployment_id, version) pair exists, or a model is not Completed",
        e422="settings that contradict each other or the models (a selector's model index)",
    ),
)
def create_deployment(
    project_id: ProjectId, body: DeploymentCreate, service: ServiceDep, _: AdminKey
) -> DeploymentPublic:
    view = service.create(
        project_id,
        deployment_id=body.deployment_id,
        version=body.version,
        description=body.description,
        environment=body.project_status,
        model_ids=body.models(),
        settings=body.settings(),
        auto_deploy=body.auto_deploy,
        skip_metrics_check=body.skip_metrics_check,
    )
    return DeploymentPublic.of(view)


@router.get(
    "/projects/{project_id}/deployments",
    summary="List a project's deployments",
    response_model=list[DeploymentPublic],
    responses=error_responses(e404="no such project"),
)
def list_deployments(
    project_id: ProjectId, service: ServiceDep, _: AdminKey
) -> list[DeploymentPublic]:
    return [DeploymentPublic.of(view) for view in service.list(project_id)]


@router.get(
    "/deployments/{deployment_id}",
    summary="Describe a deployment",
    response_model=DeploymentPublic,
    responses=_NOT_FOUND,
)
def describe_deployment(
    deployment_id: DeploymentId, service: ServiceDep, _: AdminKey, version: Version = None
) -> DeploymentPublic:
    return DeploymentPublic.of(service.describe(deployment_id, version))


@router.patch(
    "/deployments/{deployment_id}",
    summary="Update a deployment",
    response_model=DeploymentPublic,
    responses=_NOT_FOUND,
)
def update_deployment(
    deployment_id: DeploymentId,
    body: DeploymentUpdate,
    service: ServiceDep,
    _: AdminKey,
    version: Version = None,
) -> DeploymentPublic:
    changes = body.model_dump(exclude_none=True)
    return DeploymentPublic.of(service.update(deployment_id, version, changes))


@router.post(
    "/deployments/{deployment_id}/start",
    summary="Start a deployment (idempotent)",
    response_model=DeploymentPublic,
    responses=_NOT_FOUND,
)
def start_deployment(
    deployment_id: DeploymentId, service: ServiceDep, _: AdminKey, version: Version = None
) -> DeploymentPublic:
    return DeploymentPublic.of(service.start(deployment_id, version))


@router.post(
    "/deployments/{deployment_id}/stop",
    summary="Stop a deployment",
    response_model=DeploymentPublic,
    responses=_NOT_FOUND,
)
def stop_deployment(
    deployment_id: DeploymentId, service: ServiceDep, _: AdminKey, version: Version = None
) -> DeploymentPublic:
    return DeploymentPublic.of(service.stop(deployment_id, version))


@router.delete(
    "/deployments/{deployment_id}",
    status_code=204,
    summary="Delete a deployment version (every version without ?version=)",
    responses=_NOT_FOUND,
)
def delete_deployment(
    deployment_id: DeploymentId, service: ServiceDep, _: AdminKey, version: Version = None
) -> Response:
    service.delete(deployment_id, version)
    return Response(status_code=204)


@router.post(
    "/deployments/{deployment_id}/set-model-version",
    summary="Promote a model version (loaded before the switch; no request is dropped)",
    response_model=DeploymentPublic,
    responses={
        **error_responses(e404="no such deployment or model"),
        **error_responses(e409="the model is not Completed, or a switch is in progress"),
        **error_responses(e422="the algorithm is not the model's"),
    },
)
def set_model_version(
    deployment_id: DeploymentId,
    body: ModelVersionUpdate,
    service: ServiceDep,
    _: AdminKey,
    version: Version = None,
) -> DeploymentPublic:
    view = service.set_model_version(
        deployment_id,
        body.model_version,
        version,
        algorithm=body.algorithm,
        model_deployment_config=body.model_deployment_config,
    )
    return DeploymentPublic.of(view)


@router.post(
    "/deployments/{deployment_id}/rollback",
    summary="Return to the model version served before the current one",
    response_model=DeploymentPublic,
    responses={
        **_NOT_FOUND,
        **error_responses(e409="there is no previous version, or a switch is in progress"),
    },
)
def rollback_deployment(
    deployment_id: DeploymentId, service: ServiceDep, _: AdminKey, version: Version = None
) -> DeploymentPublic:
    return DeploymentPublic.of(service.rollback(deployment_id, version))


@router.put(
    "/deployments/{deployment_id}/default-prediction-arguments",
    summary="Set the default prediction arguments (optionally as overrides)",
    response_model=DeploymentPublic,
    responses=_NOT_FOUND,
)
def set_default_prediction_arguments(
    deployment_id: DeploymentId,
    body: DefaultArgumentsUpdate,
    service: ServiceDep,
    _: AdminKey,
    version: Version = None,
) -> DeploymentPublic:
    view = service.set_default_prediction_arguments(
        deployment_id,
        version,
        body.prediction_arguments.to_store(),
        override=body.set_as_override,
    )
    return DeploymentPublic.of(view)


# --- logs (admin key; responses are taken by recostack.api.deployment_responses) ----------


class LogPage(BaseModel):
    """A page of a log: its size, and the last record of the previous page."""

    limit: int = Field(10, ge=1, le=MAX_LOG_PAGE, description="records per page")
    last_log_request_id: str | None = Field(
        None, max_length=36, description="the id of the last record of the previous page"
    )
    last_log_timestamp: datetime | None = Field(
        None, description="the timestamp of the last record of the previous page"
    )


def _log_route(
    log: LogKind,
    public: type[PredictionLogPublic | ResponseLogPublic],
    answer: type[list[PredictionLogPublic]] | type[list[ResponseLogPublic]],
) -> None:
    """``GET /deployments/{deployment_id}/prediction-logs`` or ``.../response-logs``."""
    record = log.removesuffix("s")

    def page(
        deployment_id: DeploymentId,
        query: Annotated[LogPage, Query()],
        logs: LogsDep,
        _: AdminKey,
    ) -> list[PredictionLogPublic | ResponseLogPublic]:
        rows = logs.page(
            log,
            deployment_id,
            limit=query.limit,
            last_id=query.last_log_request_id or None,
            last_time=_utc(query.last_log_timestamp),
        )
        return [public.of(row) for row in rows]

    router.add_api_route(
        f"/deployments/{{deployment_id}}/{record}-logs",
        page,
        methods=["GET"],
        name=f"get_{record}_logs_records",
        summary=f"The {record} log, newest first (keyset pages: the cursor is the last "
        f"record's {record} id and timestamp)",
        response_model=answer,
        responses=_NOT_FOUND,
    )


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


_log_route("predictions", PredictionLogPublic, list[PredictionLogPublic])
_log_route("responses", ResponseLogPublic, list[ResponseLogPublic])
