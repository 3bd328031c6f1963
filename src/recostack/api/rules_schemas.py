"""Request and response bodies of the scenario, A/B test and recommendation endpoints.

The endpoints write their answers as plain JSON; these models validate the
bodies sent and document the answers in the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from recostack.api.inputs import (
    AbTestName,
    FilterRule,
    Probability,
    RerankRule,
    ScenarioName,
    StrictBool,
)
from recostack.rules import (
    AbTestRef,
    AbTestScenario,
    AliasScenario,
    AliasTarget,
    CaseRules,
    CaseScenario,
    Condition,
    ConditionScenario,
)

__all__ = [
    "AbTestCreate",
    "AbTestCreated",
    "AbTestPublic",
    "DefaultScenarioPublic",
    "DefaultScenarioSet",
    "RecommendedItems",
    "ScenarioBody",
    "ScenarioPublic",
    "ScenarioTrace",
]


class AbTestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AbTestName
    probability_a: Annotated[Probability, Field(description="share of users in group A")]


class AbTestCreated(BaseModel):
    id: str


class AbTestPublic(AbTestCreated):
    name: str
    probability_a: float
    created_at: datetime


class CaseRulesBody(CaseRules):
    """The rules of a case scenario as a request states them: each grammar as a pattern."""

    filters: tuple[FilterRule, ...] = ()
    reranking: tuple[RerankRule, ...] = ()
    exclude_rated_items: StrictBool | None = None


class CaseScenarioBody(CaseScenario):
    case: CaseRulesBody


#: the body of ``PUT /api/scenarios/{reco_type}/{name}`` (the scenario, as the reference writes it)
ScenarioBody = Annotated[
    CaseScenarioBody | AbTestScenario | ConditionScenario | AliasScenario,
    Field(discriminator="scenario_type"),
]


class ScenarioPublic(BaseModel):
    """A stored scenario: its body as it was PUT, with its name and type."""

    reco_type: str
    name: str
    scenario_type: str
    case: CaseRules | None = None
    ab_test: AbTestRef | None = None
    condition: Condition | None = None
    alias: AliasTarget | None = None
    updated_at: datetime


class DefaultScenarioSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ScenarioName


class DefaultScenarioPublic(BaseModel):
    reco_type: str
    name: str


class ScenarioTrace(BaseModel):
    """Which scenarios produced an answer (``include=scenario``)."""

    scenario: str | None = Field(description="the first scenario applied (runtime, else default)")
    case_scenarios: list[str] = Field(description="the case scenarios applied, runtime first")
    ab_test: dict[str, str] | None = Field(description="the first A/B test: id, group, scenario")
    applied: list[dict[str, Any]] = Field(description="each level's resolution path")
    filters: list[str] = Field(description="the filters applied: runtime, scenario, default")
    reranking: list[str] = Field(description="the reranking rules applied, in that order")
    exclude_rated_items: bool = Field(description="whether the user's known items were removed")


class RecommendedItems(BaseModel):
    items_id: list[str] = Field(description="recommended item ids, best first")
    scenario: ScenarioTrace | None = Field(default=None, description="with include=scenario")
