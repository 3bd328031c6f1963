"""``/api/models/{modelId}/recommend`` and ``/api/models/default/recommend`` (recommend key).

The reference's model API: item-to-item (GET, ``itemId``) and personalized
(POST, a body of recent usage events, ``userId``'s stored history merged),
with the business-rules options of :mod:`recostack.api.rule_params`. Each
route parses, calls the one recommend pipeline
(:class:`~recostack.serving.Recommender`) and writes the answer
``[{"recommendedItemId", "score"}]``, best first, with orjson.
"""

# no ``from __future__ import annotations``: FastAPI reads the endpoints' annotations, and
# those made in ``_routes`` name its local dependency
from collections.abc import Awaitable, Callable
from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import Field

from recostack.api.deps import RecommenderDep, RecommendKey
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import DEFAULT_COUNT, MAX_EVENTS, ItemId, RecommendationCount, UserId
from recostack.api.lean_route import LeanRoute
from recostack.api.rule_params import RuleQuery
from recostack.api.schemas import RecommendationPublic, UsageEventCreate
from recostack.rules import RecoType
from recostack.serving import Answer, RecommendRequest

__all__ = ["router"]

router = APIRouter(
    prefix="/api/models",
    tags=["recommendations"],
    route_class=LeanRoute,
    responses={
        **ERROR_RESPONSES,
        **error_responses(
            e404="no such model, or no default model is set",
            e409="the model is not Completed",
            e422="a filter or reranking rule names a property the catalog does not have",
            e503="the model's artifacts cannot be loaded",
        ),
    },
)


class ItemQuery(RuleQuery):
    item_id: ItemId = Field(alias="itemId", description="the seed item")
    count: RecommendationCount = Field(DEFAULT_COUNT, alias="recommendationCount")
    user_id: UserId | None = Field(
        None, alias="userId", description="with rules: the user's A/B group and rated items"
    )

    def request(self) -> RecommendRequest:
        return RecommendRequest(
            self.rule_options("item_to_items"),
            self.count,
            item_id=self.item_id,
            user_id=self.user_id,
            session_id=self.session_id,
        )


class EventsQuery(RuleQuery):
    user_id: UserId | None = Field(
        None, alias="userId", description="merge this user's training history"
    )
    count: RecommendationCount = Field(DEFAULT_COUNT, alias="recommendationCount")

    def request(self, body: list[UsageEventCreate] | None) -> RecommendRequest:
        events = tuple(body or ())
        reco_type: RecoType = "session_to_items" if events else "profile_to_items"
        return RecommendRequest(
            self.rule_options(reco_type),
            self.count,
            events=events,
            user_id=self.user_id,
            session_id=self.session_id,
        )


ModelId = Annotated[str, Path(alias="modelId", description="a model id (UUID)")]
ItemQueryDep = Annotated[ItemQuery, Query()]
EventsQueryDep = Annotated[EventsQuery, Query()]
Events = Annotated[
    list[UsageEventCreate] | None,
    Body(max_length=MAX_EVENTS, description="the user's recent usage events"),
]
#: the answers are written by hand; the response model documents them
ANSWER = list[RecommendationPublic]


def _answer(answer: Answer) -> Response:
    body = [
        {"recommendedItemId": item_id, "score": score}
        for item_id, score in zip(answer.item_ids, answer.scores, strict=True)
    ]
    return Response(orjson.dumps(body), media_type="application/json")


async def _default_model() -> None:
    """The default model (``None`` to the pipeline)."""


async def _model_in_path(model_id: ModelId) -> str:
    return model_id


def _routes(path: str, choose_model: Callable[..., Awaitable[str | None]], of: str) -> None:
    """The item-to-item (GET) and personalized (POST) endpoints of one model path."""
    ModelChoice = Annotated[str | None, Depends(choose_model)]

    async def recommend_item(
        query: ItemQueryDep, model_id: ModelChoice, recommender: RecommenderDep, _: RecommendKey
    ) -> Response:
        return _answer(await recommender.recommend(query.request(), model_id))

    async def recommend_events(
        query: EventsQueryDep,
        model_id: ModelChoice,
        recommender: RecommenderDep,
        _: RecommendKey,
        events: Events = None,
    ) -> Response:
        return _answer(await recommender.recommend(query.request(events), model_id))

    for method, endpoint, summary in (
        ("GET", recommend_item, "Item-to-item recommendations"),
        ("POST", recommend_events, "Personalized recommendations"),
    ):
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            name=f"{endpoint.__name__}{of.replace(' ', '_')}",
            summary=summary + of,
            response_model=ANSWER,
            response_class=Response,
        )


_routes("/default/recommend", _default_model, " of the default model")
_routes("/{modelId}/recommend", _model_in_path, "")
