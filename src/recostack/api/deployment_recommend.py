"""``POST /api/deployments/{deployment_id}/recommend`` (recommend key): the deployment hot path.

The endpoint is declared like any other (its OpenAPI entry; FastAPI parses
and validates every unusual body into ``RecommendBody``), but a plain body
(the ids, a count, a version and plain usage events; no per-request rules,
context or channel) is bound by hand (:mod:`recostack.api.fast_route`) and
goes straight to :func:`answer`: customer lookup (read through to the store
in a worker thread on a cache miss), then the deployment's serving steps.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from recostack.api.deployment_deps import DeploymentServingDep, deployment_serving
from recostack.api.deployment_schemas import RecommendBody
from recostack.api.deps import RecommendKey, key_role
from recostack.api.errors import ERROR_RESPONSES, error_responses, field_name
from recostack.api.fast_route import FastRoute, binds, sends_json
from recostack.api.rules_deps import scenario_cache
from recostack.api.usage_events import plain_event_list, usage_events
from recostack.errors import Invalid
from recostack.serving.deployment_serving import MISSING, DeploymentRequest, DeploymentServing

__all__ = ["router"]

MAX_DEPLOYMENT_ID = 128
router = APIRouter(prefix="/api", tags=["deployments"], route_class=FastRoute)
DeploymentId = Annotated[
    str, Path(max_length=MAX_DEPLOYMENT_ID, description="the deployment's name")
]

#: body fields a plain request may set, with the longest string each takes
_PLAIN_IDS = {"userId": 255, "customerId": 255, "itemId": 450, "sessionId": 255, "version": 64}
_PLAIN_KEYS = frozenset({*_PLAIN_IDS, "events", "recommendationCount"})


def _invalid(exc: ValidationError) -> Invalid:
    first = exc.errors()[0]
    name = field_name(first.get("loc", ()))
    if first.get("type") == "json_invalid":
        return Invalid("the request body is not valid JSON", field="body")
    return Invalid(f"{name}: {first.get('msg', 'invalid value')}", field=name)


def _request(body: RecommendBody) -> DeploymentRequest:
    return DeploymentRequest(
        user_id=body.user_id,
        customer_id=body.customer_id,
        item_id=body.item_id,
        events=tuple(usage_events(body.events)),
        session_id=body.session_id,
        arguments=body.arguments(),
    )


async def _bind(request: Request) -> dict[str, Any] | None:
    """The arguments of :func:`answer` for a plain request, else ``None`` (FastAPI's turn)."""
    started = time.perf_counter()
    deployment_id = request.path_params["deployment_id"]
    if key_role(request) is None or len(deployment_id) > MAX_DEPLOYMENT_ID:
        return None
    if not sends_json(request):
        return None
    try:
        raw: Any = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    if type(raw) is not dict or not _PLAIN_KEYS.issuperset(raw):
        return None
    for name, longest in _PLAIN_IDS.items():
        value = raw.get(name)
        if value is not None and (type(value) is not str or len(value) > longest):
            return None
    if raw.get("itemId") == "":
        return None
    arguments: dict[str, Any] = {}
    count = raw.get("recommendationCount")
    if count is not None:
        if type(count) is not int or not 1 <= count <= 100:
            return None
        arguments["count"] = count
    events: tuple[Any, ...] = ()
    if raw.get("events") is not None:
        found = plain_event_list(raw["events"])
        if found is None:
            return None
        events = tuple(found)
    query = DeploymentRequest(
        user_id=raw.get("userId"),
        customer_id=raw.get("customerId"),
        item_id=raw.get("itemId"),
        events=events,
        session_id=raw.get("sessionId"),
        arguments=arguments,
    )
    return {
        "serving": deployment_serving(request.app),
        "app": request.app,
        "deployment_id": deployment_id,
        "query": query,
        "version": raw.get("version"),
        "started": started,
    }


async def answer(
    serving: DeploymentServing,
    app: Any,
    deployment_id: str,
    query: DeploymentRequest,
    version: str | None,
    started: float,
) -> Response:
    """Serve one parsed request through the deployment (its version, or the newest ACTIVE)."""
    live = serving.live(deployment_id, version)
    customer: dict[str, Any] | None = None
    collection, lookup_id = live.config.collection, query.lookup_id
    if collection is not None and lookup_id is not None:
        cached = serving.customers.cached(collection, lookup_id)
        if cached is MISSING:
            customer = await run_in_threadpool(serving.customers.fetch, collection, lookup_id)
        else:
            customer = cached  # type: ignore[assignment]
    snapshot = scenario_cache(app).current()
    result = serving.recommend(live, query, customer, snapshot, started=started)
    return Response(orjson.dumps(result), media_type="application/json")


@router.post(
    "/deployments/{deployment_id}/recommend",
    summary="Recommend through a deployment (customer lookup, selector, whitelist, rules)",
    responses={
        **ERROR_RESPONSES,
        **error_responses(
            e404="no such deployment",
            e409="the deployment is stopped",
            e503="the deployment is not ready",
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RecommendBody.model_json_schema()}},
        }
    },
)
@binds(_bind, answer)
async def recommend(
    deployment_id: DeploymentId,
    request: Request,
    serving: DeploymentServingDep,
    _: RecommendKey,
) -> Response:
    started = time.perf_counter()
    try:
        body = RecommendBody.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        raise _invalid(exc) from None
    return await answer(serving, request.app, deployment_id, _request(body), body.version, started)
