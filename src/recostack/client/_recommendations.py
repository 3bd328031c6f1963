"""What a recommend call answers: the model API's ``Recommendation`` list, a deployment's answer."""

from __future__ import annotations

from typing import Any, TypedDict

from recostack.client._wire import WireRecord

__all__ = ["DeploymentRecommendation", "RankedItem", "RecommendArguments", "Recommendation"]


class RecommendArguments(TypedDict, total=False):
    """The arguments of a deployment's recommend call, snake_case (sent camelCase).

    ``events`` are the model API's usage events as on the wire
    (``{"itemId": ..., "eventType": ...}``); a deployment's default
    prediction arguments fill in what is not given.
    """

    user_id: str
    #: the customer lookup key (default: user_id)
    customer_id: str
    item_id: str
    session_id: str
    events: list[dict[str, Any]]
    recommendation_count: int
    filters: list[str]
    reranking: list[str]
    exclude_rated_items: bool
    scenario: str
    skip_default_scenario: bool
    context: dict[str, Any]
    channel: str
    #: a version of the deployment (default: the newest ACTIVE one)
    version: str


class Recommendation(WireRecord):
    """One recommended item of the model API (``recommendedItemId``, ``score``)."""

    recommended_item_id: str
    score: float


class RankedItem(WireRecord):
    """One item of a deployment's answer (and of its prediction log)."""

    item_id: str
    score: float
    rank: int


class DeploymentRecommendation(WireRecord):
    """The answer of ``POST /api/deployments/{deploymentId}/recommend``.

    ``request_id`` names the answer in the logs; pass it to ``log_response``.
    """

    request_id: str
    deployment_id: str
    version: str
    model_id: str
    items: list[RankedItem]
    customer_found: bool = False
    #: how the deployment's scenario was resolved, when one applied
    scenario: dict[str, Any] | None = None

    @property
    def item_ids(self) -> list[str]:
        """The recommended item ids, best first."""
        return [item.item_id for item in self.items]
