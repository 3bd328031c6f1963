"""Bodies of the project, deployment, customer and log endpoints.

On the wire names are camelCase (``deploymentId``, ``projectStatus``), the
reference's parameter names; snake_case (``deployment_id``) is accepted
too, so a body can be written either way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator
from pydantic.alias_generators import to_camel

from recostack.api.deployment_settings_schemas import (
    LEVELS,
    ModelSelectorSettings,
    ParameterAccessSettings,
    WhitelistSettings,
    check_agreement,
)
from recostack.api.exploration_schemas import ItemExplorationConfig
from recostack.api.inputs import (
    MAX_EVENTS,
    MAX_RULES,
    CustomerId,
    FilterRule,
    ItemId,
    RecommendationCount,
    RerankRule,
    ScenarioName,
    SessionId,
    UserId,
    VersionName,
)
from recostack.api.schemas import UsageEventCreate
from recostack.errors import Unprocessable
from recostack.serving.deployments.records import Environment

__all__ = [
    "BusinessRules",
    "CustomerRecord",
    "DefaultArgumentsUpdate",
    "DeploymentCreate",
    "DeploymentUpdate",
    "LoggingSettings",
    "ModelVersionUpdate",
    "PredictionArguments",
    "ProjectCreate",
    "ProjectUpdate",
    "RecommendBody",
    "ResponseCreate",
]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
#: ``plugin_pre_score_class`` / ``plugin_post_score_class``: of the reference's classes, the
#: ones Recostack's pipeline is (``serving/deployments/recommend.py``): the customer lookup
#: before scoring, and its own scoring and ranking after. The reference says no more of the
#: others than their names, so they are refused (400 naming the field and these values)
#: rather than accepted and ignored.
PreScoreClass = Literal["PrePredictCustomer.java"]
PostScoreClass = Literal["PostScoreBasic.java"]
#: the metric auto-deploy compares
AUTO_DEPLOY_METRIC = r"^(ndcg|precision|recall|map)@([1-9][0-9]?|100)$"


def auto_deploy_check(metric: str | None, tolerance: float | None) -> dict[str, Any]:
    """The ``auto_deploy_check`` settings of a deployment (what it leaves out: the defaults)."""
    check: dict[str, Any] = {}
    if metric is not None:
        check["metric"] = metric
    if tolerance is not None:
        check["tolerance"] = tolerance
    return check


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ProjectUpdate(_Body):
    project_description: str | None = Field(default=None, max_length=10_000)
    project_type: str | None = Field(default=None, max_length=128)
    purpose: str | None = Field(default=None, max_length=10_000)
    project_start_date: str | None = Field(default=None, max_length=32)
    project_end_date: str | None = Field(default=None, max_length=32)
    data_science_lead: str | None = Field(default=None, max_length=256)
    data_lead: str | None = Field(default=None, max_length=256)


class ProjectCreate(ProjectUpdate):
    project_id: str = Field(pattern=NAME_PATTERN, description="the project's name")


#: ProjectUpdate field -> store column
PROJECT_COLUMNS = {
    "project_description": "description",
    "project_type": "project_type",
    "purpose": "purpose",
    "project_start_date": "start_date",
    "project_end_date": "end_date",
    "data_science_lead": "data_science_lead",
    "data_lead": "data_lead",
}


class PredictionArguments(_Body):
    """Arguments of a recommend call a deployment can default (or override)."""

    recommendation_count: RecommendationCount | None = None
    filters: list[FilterRule] | None = Field(default=None, max_length=MAX_RULES)
    reranking: list[RerankRule] | None = Field(default=None, max_length=MAX_RULES)
    exclude_rated_items: bool | None = None
    scenario: ScenarioName | None = None
    skip_default_scenario: bool | None = None
    context: dict[str, Any] | None = None
    channel: str | None = Field(default=None, max_length=128)

    def to_store(self) -> dict[str, Any]:
        """The arguments set, by their serving names (``count`` for recommendationCount)."""
        values = self.model_dump(exclude_none=True)
        if "recommendation_count" in values:
            values["count"] = values.pop("recommendation_count")
        return values

    @classmethod
    def wire(cls, stored: dict[str, Any]) -> dict[str, Any]:
        values = dict(stored)
        if "count" in values:
            values["recommendation_count"] = values.pop("count")
        return cls.model_validate(values).model_dump(by_alias=True, exclude_none=True)


class BusinessRules(_Body):
    filters: list[FilterRule] = Field(default_factory=list, max_length=MAX_RULES)
    reranking: list[RerankRule] = Field(default_factory=list, max_length=MAX_RULES)
    exclude_rated_items: bool | None = None


class LoggingSettings(_Body):
    enabled: bool = True
    retention_days: float | None = Field(default=None, gt=0)


class DeploymentCreate(_Body):
    """A deployment version: ``modelId``, or ``modelIds`` (the first the primary), is required."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["modelId"], "properties": {"modelId": {"type": "string"}}},
                {"required": ["modelIds"], "properties": {"modelIds": {"type": "array"}}},
            ]
        }
    )

    deployment_id: str = Field(pattern=NAME_PATTERN)
    version: str = Field(min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=10_000)
    project_status: Environment = Environment.EXPERIMENT
    model_id: str | None = Field(default=None, description="the model served")
    model_ids: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=16,
        description="several models, the first the primary one; the model selector picks one",
    )
    business_rules: BusinessRules | None = None
    default_scenario: ScenarioName | None = None
    default_prediction_arguments: PredictionArguments | None = None
    set_as_override: bool = False
    whitelist: WhitelistSettings | None = Field(
        default=None, description="the items (offers) each customer may receive"
    )
    model_selector: ModelSelectorSettings | None = Field(
        default=None, description="which model serves a customer, by a field of a data set"
    )
    parameter_access: ParameterAccessSettings | None = Field(
        default=None, description="the customer lookup, with defaults and virtual variables"
    )
    pattern_selector: dict[str, Any] | None = Field(
        default=None,
        max_length=0,
        description="not supported (it drives custom scoring plug-ins): leave it out or empty",
    )
    corpora: list[dict[str, Any]] | None = Field(
        default=None,
        max_length=0,
        description="not supported (data sets of custom scoring plug-ins): leave it out or empty",
    )
    multi_armed_bandit: dict[str, Any] | str | None = Field(
        default=None,
        description="{epsilon, duration, pulse_responder_id}: the online learning configuration "
        "(its id) that scores the offers, the share of random answers, the cache in ms",
    )
    setup_offer_matrix: dict[str, Any] | str | None = Field(
        default=None,
        description="{datasource, database, collection, offer_lookup_id}: the offers",
    )
    logging: LoggingSettings | None = None
    item_exploration_config: ItemExplorationConfig | None = Field(
        default=None, description="explore new items with little interaction data"
    )
    auto_deploy: bool = False
    skip_metrics_check: bool = False
    auto_deploy_metric: str | None = Field(
        default=None, pattern=AUTO_DEPLOY_METRIC, description="compared by auto-deploy (ndcg@10)"
    )
    auto_deploy_tolerance: Annotated[float, Strict()] | None = Field(
        default=None, ge=0, le=1, description="how far below the served model's (0.01: 1 %)"
    )
    plugin_pre_score_class: PreScoreClass | None = Field(
        default=None,
        description="PrePredictCustomer.java: the customer lookup before scoring "
        "(parameter_access), the step every request goes through; the only value",
    )
    plugin_post_score_class: PostScoreClass | None = Field(
        default=None,
        description="PostScoreBasic.java: Recostack's own scoring and ranking (business rules, "
        "scenarios, whitelist); the reference's other classes (PostScoreRecommender.java, "
        "PlatformDynamicEngagement.java, PostScoreRecommenderOffers.java, "
        "PostScoreRecommenderMulti.java, PostScoreNetwork.java) are runtime plug-ins "
        "Recostack does not run: refused",
    )
    complexity: LEVELS | None = None
    performance_expectation: LEVELS | None = None

    @model_validator(mode="after")
    def _a_model(self) -> Self:
        if not self.models():
            raise ValueError("a deployment needs a model: give modelId (or modelIds)")
        return self

    def models(self) -> list[str]:
        ids = list(self.model_ids or [])
        if self.model_id is not None and self.model_id not in ids:
            ids.insert(0, self.model_id)
        return ids

    def settings(self) -> dict[str, Any]:
        """The settings document of the deployment row (serving names); :class:`Unprocessable`
        for settings that contradict each other."""
        for field, reason in check_agreement(self.parameter_access, self.model_selector):
            raise Unprocessable(reason, field=field)
        settings: dict[str, Any] = {
            "default_prediction_arguments": (
                self.default_prediction_arguments.to_store()
                if self.default_prediction_arguments
                else {}
            ),
            "set_as_override": self.set_as_override,
            "business_rules": self.business_rules.model_dump() if self.business_rules else {},
            "default_scenario": self.default_scenario,
            "whitelist": self.whitelist.to_store() if self.whitelist else {},
            "model_selector": self.model_selector.to_store() if self.model_selector else {},
            "customer_lookup": self.parameter_access.to_store() if self.parameter_access else {},
            "pattern_selector": {},
            "corpora": [],
            "auto_deploy_check": auto_deploy_check(
                self.auto_deploy_metric, self.auto_deploy_tolerance
            ),
            "multi_armed_bandit": self.multi_armed_bandit or {},
            "setup_offer_matrix": self.setup_offer_matrix or {},
            "logging": (self.logging or LoggingSettings()).model_dump(),
            "item_exploration_config": (
                self.item_exploration_config.to_store() if self.item_exploration_config else None
            ),
        }
        for name in (
            "plugin_pre_score_class",
            "plugin_post_score_class",
            "complexity",
            "performance_expectation",
        ):
            settings[name] = getattr(self, name)
        return settings


class DeploymentUpdate(_Body):
    description: str | None = Field(default=None, max_length=10_000)
    auto_deploy: bool | None = None
    skip_metrics_check: bool | None = None
    auto_deploy_metric: str | None = Field(default=None, pattern=AUTO_DEPLOY_METRIC)
    auto_deploy_tolerance: Annotated[float, Strict()] | None = Field(default=None, ge=0, le=1)


class ModelVersionUpdate(_Body):
    model_version: str = Field(description="the id of a Completed model")
    algorithm: str | None = Field(
        default=None,
        max_length=32,
        description="the model's algorithm (sar, itemknn, ease, popularity): another is a 422",
    )
    model_deployment_config: dict[str, Any] | None = Field(
        default=None, description="kept with the deployment and returned (modelDeploymentConfig)"
    )


class DefaultArgumentsUpdate(_Body):
    prediction_arguments: PredictionArguments
    set_as_override: bool = False


class RecommendBody(PredictionArguments):
    """``POST /api/deployments/{deploymentId}/recommend``: who asks, seeded by what, and the
    prediction arguments the request sets."""

    user_id: UserId | None = None
    customer_id: CustomerId | None = Field(
        default=None, description="the customer lookup key (default: userId)"
    )
    item_id: ItemId | None = None
    session_id: SessionId | None = None
    events: list[UsageEventCreate] | None = Field(default=None, max_length=MAX_EVENTS)
    version: VersionName | None = Field(default=None, description="default: newest ACTIVE")

    def arguments(self) -> dict[str, Any]:
        """The prediction arguments set (serving names: ``count`` for recommendationCount)."""
        given = {name: getattr(self, name) for name in PredictionArguments.model_fields}
        values = {name: value for name, value in given.items() if value is not None}
        if "recommendation_count" in values:
            values["count"] = values.pop("recommendation_count")
        return values


class ResponseCreate(_Body):
    """A response to an answer: take-up, an event, a reward."""

    request_id: str = Field(max_length=36)
    item_id: ItemId | None = None
    event: str | None = Field(default=None, max_length=64)
    reward: float | None = None
    take_up: bool | None = None


class CustomerRecord(_Body):
    customer_id: str = Field(min_length=1, max_length=255)
    fields: dict[str, Any] = Field(default_factory=dict)


def format_time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
