"""``POST /api/deployments/{deployment_id}/recommend`` (recommend key): through a deployment.

The body (:class:`~recostack.api.deployment_schemas.RecommendBody`) says who
asks (user, customer), seeded by what (an item, usage events) and the
prediction arguments it sets; the deployment does the rest
(:class:`~recostack.serving.deployments.recommend.DeploymentRecommender`:
customer lookup, model selector, defaults, whitelist, rules, scores, log).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Response

from recostack.api.deployment_schemas import RecommendBody
from recostack.api.deps import RecommendKey, ServingDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import DeploymentName
from recostack.api.lean_route import LeanRoute
from recostack.serving.deployments.recommend import DeploymentRequest

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["deployments"], route_class=LeanRoute)


@router.post(
    "/deployments/{deployment_id}/recommend",
    summary="Recommend through a deployment (customer lookup, selector, whitelist, rules)",
    response_model=dict[str, Any],
    response_class=Response,
    responses={
        **ERROR_RESPONSES,
        **error_responses(
            e404="no such deployment or version",
            e409="the deployment is stopped",
            e422="a filter or reranking rule names a property the catalog does not have",
            e503="the deployment is not ready",
        ),
    },
)
async def recommend(
    deployment_id: Annotated[DeploymentName, Path(description="the deployment's name")],
    serving: ServingDep,
    _: RecommendKey,
    body: RecommendBody | None = None,
) -> Response:
    started = time.perf_counter()
    body = body or RecommendBody()
    request = DeploymentRequest(
        user_id=body.user_id,
        customer_id=body.customer_id,
        item_id=body.item_id,
        events=tuple(body.events or ()),
        session_id=body.session_id,
        arguments=body.arguments(),
    )
    answer = await serving.deployments.recommend(
        deployment_id, request, body.version, started=started
    )
    return Response(orjson.dumps(answer), media_type="application/json")
