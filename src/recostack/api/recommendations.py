"""``/api/models/{modelId}/recommend`` and ``/api/models/default/recommend`` (recommend key).

The hot path. The endpoints are declared like any other (that is their
OpenAPI entry, and how FastAPI answers unusual requests), but a plain,
valid request is bound by hand (:mod:`recostack.api.fast_route`): the key
is checked against the in-memory key ring, the model comes from the
process's cache (loaded in a worker thread on a miss), and the answer is
written with orjson, without a response model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from recostack.api.deps import RecommendKey, ServingDep, key_role
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.fast_route import FastRoute, binds, sends_json
from recostack.api.rule_options import (
    ITEM_RULE_QUERY,
    PERSONALIZED_RULE_QUERY,
    UNBOUND,
    ItemRulesDep,
    ModelRules,
    PersonalizedRulesDep,
    bind_model_rules,
)
from recostack.api.schemas import RecommendationPublic, UsageEventCreate
from recostack.api.usage_events import MAX_EVENTS, plain_events, usage_events
from recostack.serving.state import ServingState
from recostack.training.trained_model import Recommendation, TrainedModel, UsageEvent

__all__ = ["router"]

MAX_COUNT = 100
DEFAULT_COUNT = 10
MAX_ITEM_ID = 450
MAX_USER_ID = 255

router = APIRouter(
    prefix="/api/models",
    tags=["recommendations"],
    route_class=FastRoute,
    responses={
        **ERROR_RESPONSES,
        **error_responses(
            e404="no such model, or no default model is set",
            e409="the model is not Completed",
        ),
    },
)

ModelId = Annotated[str, Path(alias="modelId", description="a model id (UUID)")]
ItemId = Annotated[
    str, Query(alias="itemId", min_length=1, max_length=MAX_ITEM_ID, description="seed item")
]
UserId = Annotated[
    str | None,
    Query(alias="userId", max_length=MAX_USER_ID, description="merge this user's training history"),
]
Count = Annotated[
    int, Query(alias="recommendationCount", ge=1, le=MAX_COUNT, description="number of results")
]
Events = Annotated[
    list[UsageEventCreate] | None,
    Body(max_length=MAX_EVENTS, description="the user's recent usage events"),
]
#: the answers are written by hand; the response model documents them
Answer = list[RecommendationPublic]


# --- binding plain requests by hand (see recostack.api.fast_route) ---------------


def _plain_count(raw: str | None) -> int | None:
    if raw is None:
        return DEFAULT_COUNT
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
        return None
    count = int(raw)
    return count if 1 <= count <= MAX_COUNT else None


#: the query parameters each binder understands; any other one goes to FastAPI,
#: so a parameter added to an endpoint is never silently dropped
ITEM_QUERY = frozenset({"itemId", "recommendationCount"}) | ITEM_RULE_QUERY
EVENTS_QUERY = frozenset({"userId", "recommendationCount"}) | PERSONALIZED_RULE_QUERY


def _bind_common(request: Request, known: frozenset[str]) -> dict[str, Any] | None:
    serving: ServingState = request.app.state.serving
    role = key_role(request)
    query = request.query_params
    count = _plain_count(query.get("recommendationCount"))
    if role is None or count is None or not known.issuperset(query.keys()):
        return None
    rules = bind_model_rules(request)  # None: no business rule applies
    if rules is UNBOUND:
        return None
    arguments: dict[str, Any] = {"serving": serving, "_": role, "count": count, "rules": rules}
    if "modelId" in request.path_params:
        arguments["model_id"] = request.path_params["modelId"]
    return arguments


async def _bind_item(request: Request) -> dict[str, Any] | None:
    arguments = _bind_common(request, ITEM_QUERY)
    item_id = request.query_params.get("itemId")
    if arguments is None or not item_id or len(item_id) > MAX_ITEM_ID:
        return None
    arguments["item_id"] = item_id
    return arguments


async def _bind_events(request: Request) -> dict[str, Any] | None:
    arguments = _bind_common(request, EVENTS_QUERY)
    user_id = request.query_params.get("userId")
    if arguments is None or (user_id is not None and len(user_id) > MAX_USER_ID):
        return None
    body = await request.body()
    events = None
    if body:
        if not sends_json(request):
            return None
        events = plain_events(body)
        if events is None:
            return None
    arguments["events"] = events
    arguments["user_id"] = user_id
    return arguments


# --- the endpoints -----------------------------------------------------------------


async def _model(serving: ServingState, model_id: str) -> TrainedModel:
    model = serving.cached_model(model_id)
    if model is None:
        model = await run_in_threadpool(serving.load_model, model_id)
    return model


def _answer(recommendations: list[Recommendation]) -> Response:
    return Response(
        orjson.dumps([r.to_wire() for r in recommendations]), media_type="application/json"
    )


def _personalized(
    model: TrainedModel,
    events: Sequence[UsageEventCreate | UsageEvent] | None,
    count: int,
    user_id: str | None,
    rules: ModelRules | None = None,
) -> Response:
    usage = usage_events(events)
    if rules is not None:
        return _answer(rules.recommend_events(model, usage, count, user_id or None))
    return _answer(model.recommend_events(usage, count, user_id=user_id or None))


@router.get(
    "/default/recommend",
    summary="Item-to-item recommendations of the default model",
    response_model=Answer,
    response_class=Response,
)
@binds(_bind_item)
async def recommend_item_default(
    serving: ServingDep, _: RecommendKey, item_id: ItemId, rules: ItemRulesDep, count: Count = 10
) -> Response:
    model = await _model(serving, serving.default_id())
    if rules is not None:
        return _answer(rules.recommend_item(model, item_id, count))
    return _answer(model.recommend_item(item_id, count))


@router.post(
    "/default/recommend",
    summary="Personalized recommendations of the default model",
    response_model=Answer,
    response_class=Response,
)
@binds(_bind_events)
async def recommend_events_default(
    serving: ServingDep,
    _: RecommendKey,
    rules: PersonalizedRulesDep,
    events: Events = None,
    user_id: UserId = None,
    count: Count = 10,
) -> Response:
    model = await _model(serving, serving.default_id())
    return _personalized(model, events, count, user_id, rules)


@router.get(
    "/{modelId}/recommend",
    summary="Item-to-item recommendations",
    response_model=Answer,
    response_class=Response,
)
@binds(_bind_item)
async def recommend_item(
    model_id: ModelId,
    serving: ServingDep,
    _: RecommendKey,
    item_id: ItemId,
    rules: ItemRulesDep,
    count: Count = 10,
) -> Response:
    model = await _model(serving, model_id)
    if rules is not None:
        return _answer(rules.recommend_item(model, item_id, count))
    return _answer(model.recommend_item(item_id, count))


@router.post(
    "/{modelId}/recommend",
    summary="Personalized recommendations",
    response_model=Answer,
    response_class=Response,
)
@binds(_bind_events)
async def recommend_events(
    model_id: ModelId,
    serving: ServingDep,
    _: RecommendKey,
    rules: PersonalizedRulesDep,
    events: Events = None,
    user_id: UserId = None,
    count: Count = 10,
) -> Response:
    model = await _model(serving, model_id)
    return _personalized(model, events, count, user_id, rules)
