"""The answers of the project and deployment endpoints: a project, a deployment, its log
records (camelCase).

Each is a response model in the OpenAPI document, built from what the
services return with ``of(...)``.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from recostack.api.deployment_schemas import PredictionArguments, format_time
from recostack.services.auto_deploy import auto_deploy_check
from recostack.services.deployments import DeploymentView
from recostack.store.deployment_tables import ProjectRow

__all__ = ["DeploymentPublic", "PredictionLogPublic", "ProjectPublic", "ResponseLogPublic"]


class _Public(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ProjectPublic(_Public):
    """The reference's project: its name, description and people, and its times."""

    project_id: str
    project_description: str | None
    project_type: str | None
    purpose: str | None
    project_start_date: str | None
    project_end_date: str | None
    data_science_lead: str | None
    data_lead: str | None
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, row: ProjectRow) -> ProjectPublic:
        return cls(
            project_id=row.project_id,
            project_description=row.description,
            project_type=row.project_type,
            purpose=row.purpose,
            project_start_date=row.start_date,
            project_end_date=row.end_date,
            data_science_lead=row.data_science_lead,
            data_lead=row.data_lead,
            created_at=format_time(row.created_at),
            updated_at=format_time(row.updated_at),
        )


class DeploymentPublic(_Public):
    """The reference's Deployment object, with Recostack's settings."""

    deployment_id: str
    name: str
    version: str
    status: str
    description: str | None
    deployed_at: str | None
    created_at: str | None
    project_id: str
    project_status: str
    model_id: str | None
    model_version: str | None
    model_ids: list[str]
    model_version_history: list[dict[str, Any]]
    algorithm: str | None
    algo_name: str | None
    auto_deploy: bool
    skip_metrics_check: bool
    last_auto_deploy: dict[str, Any] | None
    pending_model_version: dict[str, Any] | None
    error: str | None
    refresh_schedules: list[dict[str, Any]]
    default_prediction_arguments: dict[str, Any]
    set_as_override: bool
    business_rules: dict[str, Any]
    default_scenario: str | None
    whitelist: dict[str, Any]
    model_selector: dict[str, Any]
    parameter_access: dict[str, Any]
    pattern_selector: dict[str, Any]
    corpora: list[dict[str, Any]]
    multi_armed_bandit: dict[str, Any] | str = {}
    setup_offer_matrix: dict[str, Any] | str = {}
    logging: dict[str, Any]
    item_exploration_config: dict[str, str] | None = None
    auto_deploy_metric: str
    auto_deploy_tolerance: float
    model_deployment_config: dict[str, Any] | None
    realtime_monitor_id: str | None
    complexity: str | None
    performance_expectation: str | None
    plugin_pre_score_class: str | None
    plugin_post_score_class: str | None

    @classmethod
    def of(cls, view: DeploymentView) -> DeploymentPublic:
        row = view.row
        settings = row.settings or {}
        pending = row.pending_model_version
        metric, tolerance = auto_deploy_check(settings)
        return cls(
            deployment_id=row.deployment_id,
            name=row.deployment_id,
            version=row.version,
            status=row.status,
            description=row.description,
            deployed_at=format_time(row.deployed_at),
            created_at=format_time(row.created_at),
            project_id=row.project_id,
            project_status=row.environment,
            model_id=row.model_ids[0] if row.model_ids else None,
            model_version=view.model_version,
            model_ids=list(row.model_ids),
            model_version_history=list(row.history),
            algorithm=view.algorithm,
            algo_name=view.algorithm,
            auto_deploy=row.auto_deploy,
            skip_metrics_check=row.skip_metrics_check,
            last_auto_deploy=row.last_auto_deploy,
            pending_model_version={"modelVersion": pending} if pending else None,
            error=row.error,
            refresh_schedules=view.refresh_schedules,
            default_prediction_arguments=PredictionArguments.wire(
                settings.get("default_prediction_arguments") or {}
            ),
            set_as_override=bool(settings.get("set_as_override")),
            business_rules=settings.get("business_rules") or {},
            default_scenario=settings.get("default_scenario"),
            whitelist=settings.get("whitelist") or {},
            model_selector=settings.get("model_selector") or {},
            parameter_access=settings.get("customer_lookup") or {},
            pattern_selector=settings.get("pattern_selector") or {},
            corpora=settings.get("corpora") or [],
            multi_armed_bandit=settings.get("multi_armed_bandit") or {},
            setup_offer_matrix=settings.get("setup_offer_matrix") or {},
            logging=settings.get("logging") or {},
            auto_deploy_metric=metric,
            auto_deploy_tolerance=tolerance,
            model_deployment_config=settings.get("model_deployment_config"),
            realtime_monitor_id=view.realtime_monitor_id,
            complexity=settings.get("complexity"),
            performance_expectation=settings.get("performance_expectation"),
            plugin_pre_score_class=settings.get("plugin_pre_score_class"),
            plugin_post_score_class=settings.get("plugin_post_score_class"),
            item_exploration_config=settings.get("item_exploration_config"),
        )


class _LogRecordPublic(_Public):
    timestamp: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Self:
        """The record of a stored log row (its ``created_at`` as the ``timestamp``)."""
        return cls.model_validate({**row, "timestamp": format_time(row["created_at"])})


class PredictionLogPublic(_LogRecordPublic):
    request_id: str
    deployment_id: str
    version: str
    model_id: str
    user_id: str | None
    items: list[dict[str, Any]]
    context: dict[str, Any] | None
    latency_ms: float | None


class ResponseLogPublic(_LogRecordPublic):
    response_id: str
    request_id: str
    deployment_id: str
    item_id: str | None
    event: str | None
    reward: float | None
    take_up: bool | None
