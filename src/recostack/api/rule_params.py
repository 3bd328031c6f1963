"""The business-rules options of every recommend endpoint, declared once.

Query parameters, the same on the model API's recommend endpoints and on
``/api/recommendation/...`` (a deployment takes them in its body):

``filters``, ``reranking``
    repeatable: ``?filters=category:eq:books&filters=price:lt:10``
``exclude_rated_items``, ``skip_default_scenario``
    booleans
``scenario``
    a saved scenario of the endpoint's recommendation type
``session_id``
    puts an anonymous request in an A/B group
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from recostack.api.inputs import MAX_RULES, FilterRule, RerankRule, ScenarioName, SessionId
from recostack.rules import RecoType, RuleOptions, RuntimeRules

__all__ = ["RuleQuery"]


class RuleQuery(BaseModel):
    """Rule options as query parameters (a base of each endpoint's query model)."""

    model_config = ConfigDict(populate_by_name=True)

    filters: list[FilterRule] = Field(
        default_factory=list,
        max_length=MAX_RULES,
        description="filters `property:op:value`, repeatable; all must pass",
    )
    reranking: list[RerankRule] = Field(
        default_factory=list,
        max_length=MAX_RULES,
        description="reranking rules `property:diversity:weight`, repeatable, in order",
    )
    exclude_rated_items: bool | None = Field(
        default=None, description="remove the items the user is known to have used"
    )
    scenario: ScenarioName | None = Field(
        default=None, description="apply this saved scenario (of the endpoint's type)"
    )
    skip_default_scenario: bool = Field(default=False, description="skip the default scenario")
    session_id: SessionId | None = None

    def rule_options(self, reco_type: RecoType) -> RuleOptions:
        runtime = RuntimeRules(tuple(self.filters), tuple(self.reranking), self.exclude_rated_items)
        return RuleOptions(reco_type, runtime, self.scenario, self.skip_default_scenario)
