"""Batch predictions through a deployment (the reference's ``create_batch_prediction``).

``POST /api/deployments/{deployment_id}/batch-predictions`` stores the
description and queues its first run; ``GET /api/batch-predictions/{id}``
describes it with its runs (newest first, each a batch job with its
progress), ``POST /api/batch-predictions/{id}/start`` runs it again now,
and a ``refreshSchedule`` (cron, UTC) runs it at each due time.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from recostack.api.batch_schemas import describe_job
from recostack.api.cron_pattern import CRON_PATTERN
from recostack.api.deployment_schemas import PredictionArguments
from recostack.api.deps import AdminKey, SettingsDep, WorkersDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.exploration_schemas import ItemExplorationConfig
from recostack.api.inputs import DeploymentName
from recostack.services.batch_jobs import wire_time
from recostack.services.batch_predictions import BatchPredictionService, BatchPredictionView
from recostack.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["batch"], responses=ERROR_RESPONSES)

PredictionId = Annotated[str, Path(max_length=64, description="the batch prediction's id")]


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class BatchPredictionArgs(_Body):
    """The batch's own arguments (Recostack's BatchPredictionArgs for recommendations)."""

    input_location: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="the input file (default: an online learning configuration's "
        "batch_collection, else every user of the deployed model)",
    )
    item_exploration_config: ItemExplorationConfig | None = None


class BatchPredictionCreate(_Body):
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
    global_prediction_args: PredictionArguments | None = None
    batch_prediction_args: BatchPredictionArgs | None = None
    output_format: Literal["CSV", "JSON", "csv", "json"] = "JSON"
    output_location: str | None = Field(default=None, min_length=1, max_length=1024)
    refresh_schedule: str | None = Field(
        default=None, pattern=CRON_PATTERN, max_length=128, description="cron, UTC"
    )
    csv_input_prefix: str | None = Field(default=None, max_length=64)
    csv_prediction_prefix: str | None = Field(default=None, max_length=64)
    output_includes_metadata: bool = False
    result_input_columns: list[str] | None = Field(default=None, max_length=100)
    explanations: bool = Field(default=False, description="accepted; must be false")
    table_name: None = Field(default=None, description="not supported (write to a file)")


def _public(view: BatchPredictionView, settings: Settings) -> dict[str, Any]:
    row = view.row
    arguments = dict(row.settings.get("arguments") or {})
    latest = view.runs[0] if view.runs else None
    return {
        "batchPredictionId": row.id,
        "name": row.name,
        "deploymentId": row.deployment_id,
        "createdAt": wire_time(row.created_at),
        "refreshSchedules": (
            [{"cron": row.refresh_schedule, "nextRunTime": wire_time(row.next_run_at)}]
            if row.refresh_schedule
            else []
        ),
        "globalPredictionArgs": arguments.get("global_prediction_args") or {},
        "batchPredictionArgs": arguments.get("batch_prediction_args") or {},
        "outputFormat": arguments.get("output_format"),
        "outputLocation": arguments.get("output_location"),
        "csvInputPrefix": arguments.get("csv_input_prefix"),
        "csvPredictionPrefix": arguments.get("csv_prediction_prefix"),
        "outputIncludesMetadata": bool(arguments.get("output_includes_metadata")),
        "resultInputColumns": arguments.get("result_input_columns"),
        "latestBatchPredictionVersion": None if latest is None else latest.row.id,
        "status": None if latest is None else latest.row.status,
        "versions": [describe_job(run, settings) for run in view.runs],
    }


class BatchPredictionPublic(BaseModel):
    model_config = ConfigDict(extra="allow")

    batchPredictionId: str
    name: str
    deploymentId: str
    status: str | None


async def _service(request: Request) -> BatchPredictionService:
    service: BatchPredictionService = request.app.state.batch_predictions
    return service


ServiceDep = Annotated[BatchPredictionService, Depends(_service)]


@router.post(
    "/deployments/{deployment_id}/batch-predictions",
    status_code=201,
    summary="Create a batch prediction through the deployment (and run it once now)",
    response_model=BatchPredictionPublic,
    responses=error_responses(
        e404="no such deployment or input file",
        e422="the output is somewhere the server may not write, an input cannot be used, or "
        "the cron expression has no due time",
    ),
)
def create_batch_prediction(
    deployment_id: Annotated[DeploymentName, Path()],
    body: BatchPredictionCreate,
    service: ServiceDep,
    settings: SettingsDep,
    workers: WorkersDep,
    _: AdminKey,
) -> dict[str, Any]:
    args = body.batch_prediction_args or BatchPredictionArgs()
    view = service.create(
        deployment_id,
        name=body.name,
        global_prediction_args=(
            body.global_prediction_args.to_store() if body.global_prediction_args else {}
        ),
        batch_prediction_args={
            "inputLocation": args.input_location,
            "itemExplorationConfig": (
                args.item_exploration_config.to_store() if args.item_exploration_config else None
            ),
        },
        output_format=body.output_format,
        output_location=body.output_location,
        refresh_schedule=body.refresh_schedule,
        csv_input_prefix=body.csv_input_prefix,
        csv_prediction_prefix=body.csv_prediction_prefix,
        output_includes_metadata=body.output_includes_metadata,
        result_input_columns=body.result_input_columns,
    )
    if workers is not None:
        workers.wake()
    return _public(view, settings)


@router.get(
    "/deployments/{deployment_id}/batch-predictions",
    summary="List a deployment's batch predictions",
    response_model=list[BatchPredictionPublic],
    responses=error_responses(e404="no such deployment"),
)
def list_batch_predictions(
    deployment_id: Annotated[DeploymentName, Path()],
    service: ServiceDep,
    settings: SettingsDep,
    _: AdminKey,
) -> list[dict[str, Any]]:
    return [_public(view, settings) for view in service.list(deployment_id)]


@router.get(
    "/batch-predictions/{batch_prediction_id}",
    summary="Describe a batch prediction and its runs",
    response_model=BatchPredictionPublic,
    responses=error_responses(e404="no such batch prediction"),
)
def describe_batch_prediction(
    batch_prediction_id: PredictionId, service: ServiceDep, settings: SettingsDep, _: AdminKey
) -> dict[str, Any]:
    return _public(service.describe(batch_prediction_id), settings)


@router.post(
    "/batch-predictions/{batch_prediction_id}/start",
    summary="Run a batch prediction again now (a new version)",
    response_model=BatchPredictionPublic,
    responses=error_responses(e404="no such batch prediction"),
)
def start_batch_prediction(
    batch_prediction_id: PredictionId,
    service: ServiceDep,
    settings: SettingsDep,
    workers: WorkersDep,
    _: AdminKey,
) -> dict[str, Any]:
    view = service.start(batch_prediction_id)
    if workers is not None:
        workers.wake()
    return _public(view, settings)
