"""``POST /api/deployments/{deployment_id}/responses`` (recommend key): a response to an answer.

An async lean route: nothing on it blocks the event loop (responses to
online answers are checked in memory or against answers read in bulk, and
queued for the batching learner; others take the prediction log's path on
a worker thread: :class:`~recostack.services.response_intake.ResponseIntake`).
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Request, Response

from recostack.api.deployment_public import ResponseLogPublic
from recostack.api.deployment_schemas import ResponseCreate
from recostack.api.deps import RecommendKey
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import DeploymentName
from recostack.api.lean_route import LeanRoute
from recostack.services.response_intake import ResponseIntake

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["deployments"], route_class=LeanRoute)


async def _intake(request: Request) -> ResponseIntake:
    intake: ResponseIntake = request.app.state.response_intake
    return intake


@router.post(
    "/deployments/{deployment_id}/responses",
    status_code=201,
    summary="Record a response to an answer (take-up, event, reward)",
    response_model=ResponseLogPublic,
    response_class=Response,
    responses={
        **ERROR_RESPONSES,
        **error_responses(
            e404="no such deployment or request id",
            e422="the answer did not show the offer named (online learning)",
            e503="the offers an online answer showed are not stored yet (the process that "
            "gave it has not written them), or the database cannot be reached: retry",
        ),
    },
)
async def log_response(
    deployment_id: Annotated[DeploymentName, Path(description="the deployment's name")],
    body: ResponseCreate,
    intake: Annotated[ResponseIntake, Depends(_intake)],
    _: RecommendKey,
) -> Response:
    record = await intake.record(deployment_id, body.model_dump())
    public = ResponseLogPublic.of(record)
    return Response(
        orjson.dumps(public.model_dump(mode="json", by_alias=True)),
        status_code=201,
        media_type="application/json",
    )
