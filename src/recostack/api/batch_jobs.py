"""Batch inference jobs: create, describe, list (the managed service's calls; admin key).

``POST /api/batch-inference-jobs`` answers ``201`` with the job's id
(``batchInferenceJobArn``) at once; the workers score it. ``GET
/api/batch-inference-jobs/{batchInferenceJobArn}`` describes it, with its
progress (lines done and failed of the total, rate, ETA).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from recostack.api.batch_schemas import (
    BatchInferenceJobCreate,
    BatchInferenceJobCreated,
    BatchInferenceJobDescribed,
    BatchInferenceJobList,
    describe_job,
    summary_of,
)
from recostack.api.deps import AdminKey, SettingsDep, WorkersDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.services.batch_jobs import BatchJobService, BatchJobSpec

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["batch"], responses=ERROR_RESPONSES)

JobId = Annotated[str, Path(max_length=64, description="the job's id (batchInferenceJobArn)")]


async def _service(request: Request) -> BatchJobService:
    service: BatchJobService = request.app.state.batch_jobs
    return service


ServiceDep = Annotated[BatchJobService, Depends(_service)]


@router.post(
    "/batch-inference-jobs",
    status_code=201,
    summary="Create a batch inference job (scored by the workers)",
    response_model=BatchInferenceJobCreated,
    responses=error_responses(
        e404="no such model, deployment, scenario or input file",
        e409="the model is not Completed",
        e422="the output is somewhere the server may not write, or the engine cannot run it",
    ),
)
def create_batch_inference_job(
    body: BatchInferenceJobCreate,
    service: ServiceDep,
    workers: WorkersDep,
    response: Response,
    _: AdminKey,
) -> BatchInferenceJobCreated:
    view = service.create(
        BatchJobSpec(
            job_name=body.jobName,
            input_path=body.jobInput.location,
            output_path=body.jobOutput.location,
            model_id=body.solutionVersionArn,
            deployment_id=body.deploymentId,
            engine=body.engine,
            config=body.config(),
        )
    )
    if workers is not None:
        workers.wake()
    response.headers["Location"] = f"/api/batch-inference-jobs/{view.row.id}"
    return BatchInferenceJobCreated(batchInferenceJobArn=view.row.id)


@router.get(
    "/batch-inference-jobs/{batchInferenceJobArn}",
    summary="Describe a batch inference job, with its progress",
    response_model=BatchInferenceJobDescribed,
    responses=error_responses(e404="no such batch inference job"),
)
def describe_batch_inference_job(
    batchInferenceJobArn: JobId,
    service: ServiceDep,
    settings: SettingsDep,
    _: AdminKey,
) -> BatchInferenceJobDescribed:
    view = service.describe(batchInferenceJobArn)
    return BatchInferenceJobDescribed(batchInferenceJob=describe_job(view, settings))


@router.get(
    "/batch-inference-jobs",
    summary="List batch inference jobs, newest first",
    response_model=BatchInferenceJobList,
)
def list_batch_inference_jobs(
    service: ServiceDep,
    _: AdminKey,
    solutionVersionArn: Annotated[str | None, Query(max_length=64)] = None,
    maxResults: Annotated[int, Query(ge=1, le=100)] = 100,
    nextToken: Annotated[str | None, Query(pattern=r"^[0-9]{1,9}$")] = None,
) -> BatchInferenceJobList:
    views, following = service.list(
        model_id=solutionVersionArn, limit=maxResults, offset=int(nextToken or 0)
    )
    return BatchInferenceJobList(
        batchInferenceJobs=[summary_of(v) for v in views],
        nextToken=None if following is None else str(following),
    )
