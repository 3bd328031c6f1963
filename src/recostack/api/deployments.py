"""Deployments: create, describe, list, update, start, stop, delete, promote, roll back.

Management needs the admin key; ``recommend`` and ``responses`` accept the
recommend key. ``?version=`` addresses one version of a deployment; without
it, management addresses the newest version and ``recommend`` the newest
ACTIVE one. Loading and switching models happens in the background:
``start``, ``set_model_version`` and ``rollback`` answer at once with the
deployment (``DEPLOYING`` or a ``pendingModelVersion``); poll ``GET`` (the
SDK's ``wait_for_deployment``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from recostack.api.deployment_deps import DeploymentServingDep, deployment_lifespan
from recostack.api.deployment_schemas import (
    DefaultArgumentsUpdate,
    DeploymentCreate,
    DeploymentUpdate,
    ModelVersionUpdate,
    PredictionArguments,
    ResponseCreate,
    format_time,
)
from recostack.api.deps import AdminKey, RecommendKey, SessionDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.errors import Conflict, Invalid, NotFound
from recostack.serving.deployment_config import DeploymentConfig
from recostack.serving.deployment_serving import (
    DeploymentServing,
)
from recostack.store import deployment_repository as repo
from recostack.store.deployment_tables import DeploymentRow, DeploymentStatus
from recostack.store.model_repository import get_model
from recostack.store.prediction_log_repository import (
    insert_response,
    list_predictions,
    list_responses,
    prediction_exists,
)
from recostack.store.tables import ModelRow, ModelStatus, utcnow

__all__ = ["deployment_public", "router"]

router = APIRouter(
    prefix="/api", tags=["deployments"], responses=ERROR_RESPONSES, lifespan=deployment_lifespan
)

DeploymentId = Annotated[str, Path(max_length=128, description="the deployment's name")]
Version = Annotated[str | None, Query(max_length=64, description="a version (default: the newest)")]
_NOT_FOUND = error_responses(e404="no such deployment")
MAX_LOG_PAGE = 1000


# --- describing ----------------------------------------------------------------------


def deployment_public(row: DeploymentRow, model: ModelRow | None = None) -> dict[str, Any]:
    """The reference's Deployment object (camelCase), with Recostack's settings."""
    settings = row.settings or {}
    model_id = row.model_ids[0] if row.model_ids else None
    algorithm = (model.parameters or {}).get("algorithm", "sar") if model is not None else None
    return {
        "deploymentId": row.deployment_id,
        "name": row.deployment_id,
        "version": row.version,
        "status": row.status,
        "description": row.description,
        "deployedAt": format_time(row.deployed_at),
        "createdAt": format_time(row.created_at),
        "projectId": row.project_id,
        "projectStatus": row.environment,
        "modelId": model_id,
        "modelVersion": repo.current_model_version(row.history) or model_id,
        "modelIds": list(row.model_ids),
        "modelVersionHistory": list(row.history),
        "algorithm": algorithm,
        "algoName": algorithm,
        "autoDeploy": row.auto_deploy,
        "skipMetricsCheck": row.skip_metrics_check,
        "lastAutoDeploy": row.last_auto_deploy,
        "pendingModelVersion": (
            {"modelVersion": row.pending_model_version} if row.pending_model_version else None
        ),
        "error": row.error,
        "refreshSchedules": [],
        "defaultPredictionArguments": PredictionArguments.wire(
            settings.get("default_prediction_arguments") or {}
        ),
        "setAsOverride": bool(settings.get("set_as_override")),
        "businessRules": settings.get("business_rules") or {},
        "defaultScenario": settings.get("default_scenario"),
        "whitelist": settings.get("whitelist") or {},
        "modelSelector": settings.get("model_selector") or {},
        "parameterAccess": settings.get("customer_lookup") or {},
        "patternSelector": settings.get("pattern_selector") or {},
        "corpora": settings.get("corpora") or [],
        "logging": settings.get("logging") or {},
    }


def _describe(session: SessionDep, row: DeploymentRow) -> dict[str, Any]:
    model = session.get(ModelRow, row.model_ids[0]) if row.model_ids else None
    return deployment_public(row, model)


def _completed_model(session: SessionDep, model_id: str, field: str) -> str:
    model = get_model(session, model_id)
    if model.status != ModelStatus.COMPLETED:
        raise Conflict(
            f"model {model.id} is {model.status}; only a Completed model can be deployed",
            field=field,
        )
    return model.id


def _record(row: DeploymentRow) -> repo.DeploymentRecord:
    return repo.DeploymentRecord(
        row.id,
        row.deployment_id,
        row.version,
        row.status,
        row.environment,
        row.error,
        tuple(row.model_ids),
        row.pending_model_version,
        dict(row.settings or {}),
    )


def _deploy(session: SessionDep, serving: DeploymentServing, row: DeploymentRow) -> None:
    """Mark ``row`` DEPLOYING, commit, and load it in the background."""
    repo.update_deployment(session, row, status=DeploymentStatus.DEPLOYING, error=None)
    session.commit()
    serving.activate(_record(row))


# --- management (admin key) ------------------------------------------------------------


@router.post(
    "/projects/{project_id}/deployments",
    status_code=201,
    summary="Create a deployment version (and start deploying it)",
    responses=error_responses(
        e404="no such project or model",
        e409="the (deployment_id, version) pair exists, or a model is not Completed",
    ),
)
def create_deployment(
    project_id: Annotated[str, Path(max_length=128)],
    body: DeploymentCreate,
    session: SessionDep,
    serving: DeploymentServingDep,
    _: AdminKey,
) -> dict[str, Any]:
    model_ids = body.models()
    if not model_ids:
        raise Invalid("a deployment needs a model: give modelId (or modelIds)", field="modelId")
    model_ids = [_completed_model(session, m, "modelId") for m in model_ids]
    settings = body.settings()
    DeploymentConfig.parse(settings, len(model_ids))  # refuse what serving could not use
    row = repo.create_deployment(
        session,
        project_id=project_id,
        deployment_id=body.deployment_id,
        version=body.version,
        description=body.description,
        environment=body.project_status,
        model_ids=model_ids,
        settings=settings,
        auto_deploy=body.auto_deploy,
        skip_metrics_check=body.skip_metrics_check,
    )
    _deploy(session, serving, row)
    return _describe(session, row)


@router.get("/projects/{project_id}/deployments", summary="List a project's deployments")
def list_deployments(
    project_id: Annotated[str, Path(max_length=128)], session: SessionDep, _: AdminKey
) -> list[dict[str, Any]]:
    return [_describe(session, row) for row in repo.list_deployments(session, project_id)]


@router.get("/deployments/{deployment_id}", summary="Describe a deployment", responses=_NOT_FOUND)
def describe_deployment(
    deployment_id: DeploymentId, session: SessionDep, _: AdminKey, version: Version = None
) -> dict[str, Any]:
    return _describe(session, repo.get_deployment(session, deployment_id, version))


@router.patch("/deployments/{deployment_id}", summary="Update a deployment", responses=_NOT_FOUND)
def update_deployment(
    deployment_id: DeploymentId,
    body: DeploymentUpdate,
    session: SessionDep,
    _: AdminKey,
    version: Version = None,
) -> dict[str, Any]:
    row = repo.get_deployment(session, deployment_id, version)
    repo.update_deployment(session, row, **body.model_dump(exclude_none=True))
    session.commit()
    return _describe(session, row)


@router.post(
    "/deployments/{deployment_id}/start",
    summary="Start a deployment (idempotent)",
    responses=_NOT_FOUND,
)
def start_deployment(
    deployment_id: DeploymentId,
    session: SessionDep,
    serving: DeploymentServingDep,
    _: AdminKey,
    version: Version = None,
) -> dict[str, Any]:
    row = repo.get_deployment(session, deployment_id, version)
    if row.status not in (DeploymentStatus.ACTIVE, DeploymentStatus.DEPLOYING):
        _deploy(session, serving, row)
    return _describe(session, row)


@router.post("/deployments/{deployment_id}/stop", summary="Stop a deployment", responses=_NOT_FOUND)
def stop_deployment(
    deployment_id: DeploymentId,
    session: SessionDep,
    serving: DeploymentServingDep,
    _: AdminKey,
    version: Version = None,
) -> dict[str, Any]:
    row = repo.get_deployment(session, deployment_id, version)
    repo.update_deployment(
        session, row, status=DeploymentStatus.STOPPED, pending_model_version=None
    )
    session.commit()
    serving.reload()
    return _describe(session, row)


@router.delete(
    "/deployments/{deployment_id}",
    status_code=204,
    summary="Delete a deployment version (every version without ?version=)",
    responses=_NOT_FOUND,
)
def delete_deployment(
    deployment_id: DeploymentId,
    session: SessionDep,
    serving: DeploymentServingDep,
    _: AdminKey,
    version: Version = None,
) -> Response:
    rows = (
        [repo.get_deployment(session, deployment_id, version)]
        if version is not None
        else _all_versions(session, deployment_id)
    )
    for row in rows:
        repo.delete_deployment(session, row)
    session.commit()
    serving.reload()
    return Response(status_code=204)


def _all_versions(session: SessionDep, deployment_id: str) -> list[DeploymentRow]:
    newest = repo.get_deployment(session, deployment_id)
    return [
        r
        for r in repo.list_deployments(session, newest.project_id)
        if r.deployment_id == deployment_id
    ]


def _switch(
    session: SessionDep,
    serving: DeploymentServing,
    row: DeploymentRow,
    model_version: str,
    *,
    rollback: bool,
) -> dict[str, Any]:
    if row.pending_model_version:
        raise Conflict(
            f"deployment {row.deployment_id!r} is already switching to {row.pending_model_version}",
            field="modelVersion",
        )
    if row.status == DeploymentStatus.ACTIVE:
        repo.update_deployment(session, row, pending_model_version=model_version)
        session.commit()
        serving.switch_model(_record(row), model_version, rollback=rollback)
    else:  # nothing is served: record the switch, it is loaded at the next start
        session.commit()
        serving.source.complete_promotion(row.id, model_version, rollback=rollback)
        session.refresh(row)
    return _describe(session, row)


@router.post(
    "/deployments/{deployment_id}/set-model-version",
    summary="Promote a model version (loaded before the switch; no request is dropped)",
    responses={**_NOT_FOUND, **error_responses(e409="the model is not Completed")},
)
def set_model_version(
    deployment_id: DeploymentId,
    body: ModelVersionUpdate,
    session: SessionDep,
    serving: DeploymentServingDep,
    _: AdminKey,
    version: Version = None,
) -> dict[str, Any]:
    row = repo.get_deployment(session, deployment_id, version)
    model_id = _completed_model(session, body.model_version, "modelVersion")
    return _switch(session, serving, row, model_id, rollback=False)


@router.post(
    "/deployments/{deployment_id}/rollback",
    summary="Return to the model version served before the current one",
    responses={**_NOT_FOUND, **error_responses(e409="there is no previous version")},
)
def rollback_deployment(
    deployment_id: DeploymentId,
    session: SessionDep,
    serving: DeploymentServingDep,
    _: AdminKey,
    version: Version = None,
) -> dict[str, Any]:
    row = repo.get_deployment(session, deployment_id, version)
    previous = repo.previous_model_version(row.history)
    if previous is None:
        raise Conflict(
            f"deployment {deployment_id!r} has no previous model version to roll back to",
            field="deployment_id",
        )
    return _switch(
        session, serving, row, _completed_model(session, previous, "modelVersion"), rollback=True
    )


@router.put(
    "/deployments/{deployment_id}/default-prediction-arguments",
    summary="Set the default prediction arguments (optionally as overrides)",
    responses=_NOT_FOUND,
)
def set_default_prediction_arguments(
    deployment_id: DeploymentId,
    body: DefaultArgumentsUpdate,
    session: SessionDep,
    serving: DeploymentServingDep,
    _: AdminKey,
    version: Version = None,
) -> dict[str, Any]:
    row = repo.get_deployment(session, deployment_id, version)
    settings = dict(row.settings or {})
    settings["default_prediction_arguments"] = body.prediction_arguments.to_store()
    settings["set_as_override"] = body.set_as_override
    repo.update_deployment(session, row, settings=settings)
    session.commit()
    serving.reload()
    return _describe(session, row)


# --- responses and logs (recommend key; the recommend endpoint: deployment_recommend) --


@router.post(
    "/deployments/{deployment_id}/responses",
    status_code=201,
    summary="Record a response to an answer (take-up, event, reward)",
    responses=error_responses(e404="no such deployment or request id"),
)
def log_response(
    deployment_id: DeploymentId,
    body: ResponseCreate,
    session: SessionDep,
    serving: DeploymentServingDep,
    _: RecommendKey,
) -> dict[str, Any]:
    repo.get_deployment(session, deployment_id)
    logger = serving.prediction_logger
    connection = session.connection()
    known = (logger is not None and logger.is_pending(deployment_id, body.request_id)) or (
        prediction_exists(connection, deployment_id, body.request_id)
    )
    if not known:
        raise NotFound(
            f"deployment {deployment_id!r} gave no answer with requestId {body.request_id!r}",
            field="requestId",
        )
    record = {
        "response_id": str(uuid.uuid4()),
        "request_id": body.request_id,
        "deployment_id": deployment_id,
        "item_id": body.item_id,
        "event": body.event,
        "reward": body.reward,
        "take_up": body.take_up,
        "created_at": utcnow(),
    }
    insert_response(connection, record)
    session.commit()
    return _response_public(record)


# --- logs (admin key) --------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=MAX_LOG_PAGE, description="records per page")]
LastId = Annotated[
    str | None, Query(max_length=36, description="the last record of the previous page")
]
LastTime = Annotated[
    datetime | None, Query(description="the timestamp of the last record of the previous page")
]


def _prediction_public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestId": row["request_id"],
        "deploymentId": row["deployment_id"],
        "version": row["version"],
        "modelId": row["model_id"],
        "userId": row["user_id"],
        "items": row["items"],
        "context": row["context"],
        "timestamp": format_time(row["created_at"]),
        "latencyMs": row["latency_ms"],
    }


def _response_public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "responseId": row["response_id"],
        "requestId": row["request_id"],
        "deploymentId": row["deployment_id"],
        "itemId": row["item_id"],
        "event": row["event"],
        "reward": row["reward"],
        "takeUp": row["take_up"],
        "timestamp": format_time(row["created_at"]),
    }


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@router.get(
    "/deployments/{deployment_id}/prediction-logs",
    summary="Prediction logs, newest first (keyset pages)",
    responses=_NOT_FOUND,
)
def get_prediction_logs_records(
    deployment_id: DeploymentId,
    session: SessionDep,
    _: AdminKey,
    limit: Limit = 10,
    last_log_request_id: LastId = None,
    last_log_timestamp: LastTime = None,
) -> list[dict[str, Any]]:
    repo.get_deployment(session, deployment_id)
    rows = list_predictions(
        session.connection(),
        deployment_id,
        limit=limit,
        last_log_request_id=last_log_request_id or None,
        last_log_timestamp=_utc(last_log_timestamp),
    )
    return [_prediction_public(r) for r in rows]


@router.get(
    "/deployments/{deployment_id}/response-logs",
    summary="Response logs, newest first (keyset pages by responseId and timestamp)",
    responses=_NOT_FOUND,
)
def get_response_logs_records(
    deployment_id: DeploymentId,
    session: SessionDep,
    _: AdminKey,
    limit: Limit = 10,
    last_log_request_id: LastId = None,
    last_log_timestamp: LastTime = None,
) -> list[dict[str, Any]]:
    repo.get_deployment(session, deployment_id)
    rows = list_responses(
        session.connection(),
        deployment_id,
        limit=limit,
        last_log_request_id=last_log_request_id or None,
        last_log_timestamp=_utc(last_log_timestamp),
    )
    return [_response_public(r) for r in rows]
