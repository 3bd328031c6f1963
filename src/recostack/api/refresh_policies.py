"""Refresh policies (admin key): the reference's ``create_refresh_policy(cron)``,
``list_refresh_policies``, and pause, resume, run now, delete.

A policy of a deployment retrains the model it serves; a policy of a model
retrains its lineage. The workers' scheduler runs each due time once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from recostack.api.deps import AdminKey
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import DeploymentName, ModelId
from recostack.api.operations_schemas import RefreshPolicyCreate, RefreshPolicyPublic, wire_time
from recostack.services.refresh_policies import RefreshPolicyService
from recostack.store.operations_tables import RefreshPolicyRow

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["refresh policies"], responses=ERROR_RESPONSES)

DeploymentId = Annotated[DeploymentName, Path(description="the deployment's name")]
PolicyId = Annotated[str, Path(max_length=36, description="the refresh policy's id")]
_UNUSABLE_CRON = "the cron expression names no time croniter can compute"


async def _service(request: Request) -> RefreshPolicyService:
    service: RefreshPolicyService = request.app.state.refresh_policies
    return service


ServiceDep = Annotated[RefreshPolicyService, Depends(_service)]


def public(row: RefreshPolicyRow) -> RefreshPolicyPublic:
    return RefreshPolicyPublic(
        refresh_policy_id=row.id,
        name=row.name,
        cron=row.cron,
        refresh_type=row.refresh_type,
        deployment_ids=[row.deployment_id] if row.deployment_id else [],
        model_ids=[row.model_id] if row.model_id else [],
        project_id=row.project_id,
        paused=row.paused,
        next_run_time=None if row.paused else wire_time(row.next_run_at),
        created_at=wire_time(row.created_at),
        last_run_time=wire_time(row.last_run_at),
        last_model_id=row.last_model_id,
        error=row.last_error,
    )


@router.post(
    "/deployments/{deployment_id}/refresh-policies",
    status_code=201,
    summary="Retrain what the deployment serves on a cron schedule",
    response_model=RefreshPolicyPublic,
    responses=error_responses(e404="no such deployment", e422=_UNUSABLE_CRON),
)
def create_deployment_refresh_policy(
    deployment_id: DeploymentId, body: RefreshPolicyCreate, service: ServiceDep, _: AdminKey
) -> RefreshPolicyPublic:
    return public(service.create(body.cron, deployment_id=deployment_id, name=body.name))


@router.get(
    "/deployments/{deployment_id}/refresh-policies",
    summary="List a deployment's refresh policies",
    response_model=list[RefreshPolicyPublic],
    responses=error_responses(e404="no such deployment"),
)
def list_deployment_refresh_policies(
    deployment_id: DeploymentId, service: ServiceDep, _: AdminKey
) -> list[RefreshPolicyPublic]:
    return [public(row) for row in service.find(deployment_id=deployment_id)]


@router.post(
    "/models/{modelId}/refresh-policies",
    status_code=201,
    summary="Retrain a model's lineage (its parameters, the current input files) on a schedule",
    response_model=RefreshPolicyPublic,
    responses=error_responses(e404="no such model", e422=_UNUSABLE_CRON),
)
def create_model_refresh_policy(
    model_id: Annotated[ModelId, Path(alias="modelId")],
    body: RefreshPolicyCreate,
    service: ServiceDep,
    _: AdminKey,
) -> RefreshPolicyPublic:
    return public(service.create(body.cron, model_id=model_id, name=body.name))


@router.get(
    "/models/{modelId}/refresh-policies",
    summary="List a model lineage's refresh policies",
    response_model=list[RefreshPolicyPublic],
    responses=error_responses(e404="no such model"),
)
def list_model_refresh_policies(
    model_id: Annotated[ModelId, Path(alias="modelId")], service: ServiceDep, _: AdminKey
) -> list[RefreshPolicyPublic]:
    return [public(row) for row in service.find(model_id=model_id)]


@router.get(
    "/refresh-policies",
    summary="List every refresh policy",
    response_model=list[RefreshPolicyPublic],
)
def list_refresh_policies(service: ServiceDep, _: AdminKey) -> list[RefreshPolicyPublic]:
    return [public(row) for row in service.find()]


@router.get(
    "/refresh-policies/{refresh_policy_id}",
    summary="Describe a refresh policy",
    response_model=RefreshPolicyPublic,
    responses=error_responses(e404="no such refresh policy"),
)
def describe_refresh_policy(
    refresh_policy_id: PolicyId, service: ServiceDep, _: AdminKey
) -> RefreshPolicyPublic:
    return public(service.describe(refresh_policy_id))


@router.delete(
    "/refresh-policies/{refresh_policy_id}",
    status_code=204,
    summary="Delete a refresh policy",
    responses=error_responses(e404="no such refresh policy"),
)
def delete_refresh_policy(
    refresh_policy_id: PolicyId, service: ServiceDep, _: AdminKey
) -> Response:
    service.delete(refresh_policy_id)
    return Response(status_code=204)


@router.post(
    "/refresh-policies/{refresh_policy_id}/pause",
    summary="Pause a refresh policy",
    response_model=RefreshPolicyPublic,
    responses=error_responses(e404="no such refresh policy"),
)
def pause_refresh_policy(
    refresh_policy_id: PolicyId, service: ServiceDep, _: AdminKey
) -> RefreshPolicyPublic:
    return public(service.pause(refresh_policy_id))


@router.post(
    "/refresh-policies/{refresh_policy_id}/resume",
    summary="Resume a paused refresh policy (from its next due time after now)",
    response_model=RefreshPolicyPublic,
    responses=error_responses(e404="no such refresh policy"),
)
def resume_refresh_policy(
    refresh_policy_id: PolicyId, service: ServiceDep, _: AdminKey
) -> RefreshPolicyPublic:
    return public(service.resume(refresh_policy_id))


@router.post(
    "/refresh-policies/{refresh_policy_id}/run",
    summary="Refresh now (submits the retraining; lastModelId names the new model)",
    response_model=RefreshPolicyPublic,
    responses=error_responses(
        e404="no such refresh policy, or its deployment, model or input files are gone",
        e409="a refresh was started at this very moment",
    ),
)
def run_refresh_policy(
    refresh_policy_id: PolicyId, service: ServiceDep, _: AdminKey
) -> RefreshPolicyPublic:
    return public(service.run_now(refresh_policy_id))
