"""``/api/recommendation/...``: recommendations per recommendation type (recommend key).

The reference's paths, each one recommendation type (so each has its own
scenarios and default scenario):

- ``GET  /api/recommendation/items/{item_id}/items/``: item_to_items;
- ``GET  /api/recommendation/users/{user_id}/items/``: profile_to_items,
  from the user's stored history;
- ``POST /api/recommendation/sessions/items/``: session_to_items, from a
  body of usage events (and the stored history of ``user_id`` if given).

Options: ``amt`` (1..100, default 10), ``model_id`` (default: the default
model), the rule options of :mod:`recostack.api.rule_params`, ``user_id``
on the item and session endpoints (A/B group, rated items; an anonymous
request is put in a group by ``session_id``), and ``include=scenario`` to
say which scenarios, A/B test and group produced the answer. The answer is
``{"items_id": [...]}``, best first.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import Field

from recostack.api.deps import RecommenderDep, RecommendKey
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import (
    DEFAULT_COUNT,
    MAX_EVENTS,
    ItemId,
    ModelId,
    RecommendationCount,
    UserId,
)
from recostack.api.lean_route import LeanRoute
from recostack.api.rule_params import RuleQuery
from recostack.api.rules_schemas import RecommendedItems
from recostack.api.schemas import UsageEventCreate
from recostack.serving import Answer, Recommender, RecommendRequest

__all__ = ["router"]

router = APIRouter(
    prefix="/api/recommendation",
    tags=["recommendation"],
    route_class=LeanRoute,
    responses={
        **ERROR_RESPONSES,
        **error_responses(
            e404="no such model or scenario, or no default model is set",
            e409="the model is not Completed, or a scenario chain is broken",
            e422="a filter or reranking rule names a property the catalog does not have",
            e503="the model's artifacts cannot be loaded",
        ),
    },
)


class RecommendationQuery(RuleQuery):
    amt: RecommendationCount = DEFAULT_COUNT
    model_id: ModelId | None = Field(None, description="a model id (default: the default model)")
    include: list[Literal["scenario"]] = Field(
        default_factory=list,
        description="`scenario`: say which scenarios and A/B group produced the answer",
    )


class UserQuery(RecommendationQuery):
    user_id: UserId | None = Field(None, description="the user: A/B group and rated items")


Events = Annotated[
    list[UsageEventCreate] | None,
    Body(max_length=MAX_EVENTS, description="the session's usage events"),
]


async def _recommend(
    recommender: Recommender, query: RecommendationQuery, request: RecommendRequest
) -> Response:
    answer: Answer = await recommender.recommend(request, query.model_id)
    body: dict[str, object] = {"items_id": answer.item_ids}
    if query.include:
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
    item_id: Annotated[ItemId, Path()],
    query: Annotated[UserQuery, Query()],
    recommender: RecommenderDep,
    _: RecommendKey,
) -> Response:
    request = RecommendRequest(
        query.rule_options("item_to_items"),
        query.amt,
        item_id=item_id,
        user_id=query.user_id,
        session_id=query.session_id,
    )
    return await _recommend(recommender, query, request)


@router.get(
    "/users/{user_id}/items/",
    summary="Items for a user, from the stored history (profile_to_items)",
    response_model=RecommendedItems,
    response_class=Response,
)
async def recommend_profile_to_items(
    user_id: Annotated[UserId, Path()],
    query: Annotated[RecommendationQuery, Query()],
    recommender: RecommenderDep,
    _: RecommendKey,
) -> Response:
    request = RecommendRequest(
        query.rule_options("profile_to_items"),
        query.amt,
        user_id=user_id,
        session_id=query.session_id,
    )
    return await _recommend(recommender, query, request)


@router.post(
    "/sessions/items/",
    summary="Items for a session of usage events (session_to_items)",
    response_model=RecommendedItems,
    response_class=Response,
)
async def recommend_session_to_items(
    query: Annotated[UserQuery, Query()],
    recommender: RecommenderDep,
    _: RecommendKey,
    events: Events = None,
) -> Response:
    request = RecommendRequest(
        query.rule_options("session_to_items"),
        query.amt,
        events=tuple(events or ()),
        user_id=query.user_id,
        session_id=query.session_id,
    )
    return await _recommend(recommender, query, request)
