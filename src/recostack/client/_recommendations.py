"""What a recommend call answers: the model API's ``Recommendation`` list, a deployment's answer."""

from __future__ import annotations

from typing import Any, TypedDict

from recostack.client._wire import WireRecord

__all__ = [
    "DeploymentRecommendation",
    "OnlineLearningAnswer",
    "RankedItem",
    "RecommendArguments",
    "Recommendation",
]


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
    """One item of a deployment's answer (and of its prediction log).

    An online learning answer's offers carry what the policy did (``arm_reward``,
    ``propensity``, ``explored``, ``exploration_probability``); an item placed by item
    exploration says so (``reason`` ``"exploration"``, with its ``propensity``).
    """

    item_id: str
    score: float
    rank: int
    #: online learning: the offer's draw from its Beta (its score)
    arm_reward: float | None = None
    #: the probability that the policy shows this item at this rank
    propensity: float | None = None
    #: online learning: placed by exploration (a random call, a random action, another
    #: segment's offer)
    explored: bool | None = None
    #: online learning: the probability that its draw is below the best-mean offer's
    exploration_probability: float | None = None
    #: why the item is there when it is not the model's ranking (``"exploration"``)
    reason: str | None = None


class OnlineLearningAnswer(WireRecord):
    """How an online learning deployment chose its offers (``onlineLearning``)."""

    config_id: str
    segment: str
    #: the call, or one of its offers, explored
    explored: bool
    epsilon: float
    #: the segment's offer with the highest mean among the candidates
    best_offer: str | None = None


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
    #: a deployment that learns online: its configuration, the segment, what it explored
    online_learning: OnlineLearningAnswer | None = None
    #: the customer's earlier answer again, within the deployment's ``duration``
    cached: bool = False

    @property
    def item_ids(self) -> list[str]:
        """The recommended item ids, best first."""
        return [item.item_id for item in self.items]
