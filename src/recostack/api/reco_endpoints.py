"""``/api/recommendation/...``: recommendations per recommendation type (recommend key).

The reference's paths, each one recommendation type (so each has its own
scenarios and default scenario):

- ``GET  /api/recommendation/items/{item_id}/items/``: item_to_items;
- ``GET  /api/recommendation/users/{user_id}/items/``: profile_to_items,
  from the user's stored history;
- ``POST /api/recommendation/sessions/items/``: session_to_items, from a
  body of usage events (and the stored history of ``user_id`` if given).

Options: ``amt`` (1..100, default 10), ``model_id`` (default: the default
model), the rule options of :mod:`recostack.api.rule_options`, ``user_id``
on the item and session endpoints (A/B group, rated items; an anonymous
request is put in a group by ``session_id``), and ``include=scenario`` to
say which scenarios, A/B test and group produced the answer. The answer is
``{"items_id": [...]}``, best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Body, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from recostack.api.deps import RecommendKey, ServingDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.rule_options import MAX_ID, RuleParams, RuleParamsDep
from recostack.api.rules_deps import ScenarioCacheDep, scenario_lifespan
from recostack.api.rules_schemas import RecommendedItems
from recostack.api.schemas import UsageEventCreate
from recostack.api.usage_events import usage_events
from recostack.rules import RecoType
from recostack.serving.rules_request import recommend_for_request
from recostack.serving.scenario_cache import ScenarioCache
from recostack.serving.state import ServingState
from recostack.training.trained_model import TrainedModel, UsageEvent

__all__ = ["router"]

MAX_COUNT = 100
MAX_EVENTS = 1000
MAX_ITEM_ID = 450

router = APIRouter(
    prefix="/api/recommendation",
    tags=["recommendation"],
    lifespan=scenario_lifespan,
    responses={
        **ERROR_RESPONSES,
        **error_responses(
            e404="no such model or scenario, or no default model is set",
            e409="the model is not Completed",
        ),
    },
)

Amount = Annotated[int, Query(ge=1, le=MAX_COUNT, description="number of items")]
ModelIdQuery = Annotated[
    str | None, Query(max_length=64, description="a model id (default: the default model)")
]
Include = Annotated[
    list[Literal["scenario"]] | None,
    Query(description="`scenario`: say which scenarios and A/B group produced the answer"),
]
UserQuery = Annotated[
    str | None, Query(max_length=MAX_ID, description="the user: A/B group and rated items")
]
Events = Annotated[
    list[UsageEventCreate] | None,
    Body(max_length=MAX_EVENTS, description="the session's usage events"),
]


async def _model(serving: ServingState, model_id: str | None) -> TrainedModel:
    model_id = model_id or serving.default_id()
    model = serving.cached_model(model_id)
    if model is None:
        model = await run_in_threadpool(serving.load_model, model_id)
    return model


def _recommend(
    model: TrainedModel,
    cache: ScenarioCache,
    params: RuleParams,
    reco_type: RecoType,
    amt: int,
    include: list[Literal["scenario"]] | None,
    *,
    user_id: str | None,
    item_id: str | None = None,
    events: Sequence[UsageEvent] = (),
) -> Response:
    request = params.request(reco_type, user_id)
    answer = recommend_for_request(
        model, cache.current(), request, amt, item_id=item_id, events=events
    )
    body: dict[str, object] = {"items_id": [r.item_id for r in answer.recommendations]}
    if include:
        rules = answer.rules
        body["scenario"] = {
            **rules.trace(),
            "filters": list(rules.filters),
            "reranking": list(rules.reranking),
            "exclude_rated_items": rules.exclude_rated_items,
        }
    return Response(orjson.dumps(body), media_type="application/json")


@router.get(
    "/items/{item_id}/items/",
    summary="Items similar to an item (item_to_items)",
    response_model=RecommendedItems,
    response_class=Response,
)
async def recommend_item_to_items(
    item_id: Annotated[str, Path(min_length=1, max_length=MAX_ITEM_ID)],
    serving: ServingDep,
    cache: ScenarioCacheDep,
    params: RuleParamsDep,
    _: RecommendKey,
    amt: Amount = 10,
    model_id: ModelIdQuery = None,
    user_id: UserQuery = None,
    include: Include = None,
) -> Response:
    model = await _model(serving, model_id)
    return _recommend(
        model, cache, params, "item_to_items", amt, include, user_id=user_id, item_id=item_id
    )


@router.get(
    "/users/{user_id}/items/",
    summary="Items for a user, from the stored history (profile_to_items)",
    response_model=RecommendedItems,
    response_class=Response,
)
async def recommend_profile_to_items(
    user_id: Annotated[str, Path(min_length=1, max_length=MAX_ID)],
    serving: ServingDep,
    cache: ScenarioCacheDep,
    params: RuleParamsDep,
    _: RecommendKey,
    amt: Amount = 10,
    model_id: ModelIdQuery = None,
    include: Include = None,
) -> Response:
    model = await _model(serving, model_id)
    return _recommend(model, cache, params, "profile_to_items", amt, include, user_id=user_id)


@router.post(
    "/sessions/items/",
    summary="Items for a session of usage events (session_to_items)",
    response_model=RecommendedItems,
    response_class=Response,
)
async def recommend_session_to_items(
    serving: ServingDep,
    cache: ScenarioCacheDep,
    params: RuleParamsDep,
    _: RecommendKey,
    events: Events = None,
    amt: Amount = 10,
    model_id: ModelIdQuery = None,
    user_id: UserQuery = None,
    include: Include = None,
) -> Response:
    model = await _model(serving, model_id)
    return _recommend(
        model,
        cache,
        params,
        "session_to_items",
        amt,
        include,
        user_id=user_id,
        events=usage_events(events),
    )
