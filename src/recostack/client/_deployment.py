"""The ``Deployment`` resource: the reference's fields and methods, over the client's calls."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Protocol, Unpack

from pydantic import Field

from recostack.client._deployment_batch import DeploymentBatch
from recostack.client._deployment_operations import DeploymentOperations
from recostack.client._deployment_state import (
    AutoDeployDecision,
    ModelVersionEntry,
    PendingModelVersion,
)
from recostack.client._logs import PredictionLogRecord, ResponseLogRecord
from recostack.client._polling import poll_until
from recostack.client._recommendations import DeploymentRecommendation, RecommendArguments
from recostack.client._wire import Resource

__all__ = ["Deployment", "DeploymentCalls"]

_STARTING = frozenset({"PENDING", "DEPLOYING"})


class DeploymentCalls(Protocol):
    """The calls of the client a :class:`Deployment` uses."""

    poll_seconds: float

    def describe_deployment(self, deployment_id: str, version: str | None = ...) -> Deployment: ...

    def update_deployment(
        self,
        deployment_id: str,
        description: str | None = ...,
        auto_deploy: bool | None = ...,
        skip_metrics_check: bool | None = ...,
        version: str | None = ...,
    ) -> Deployment: ...

    def start_deployment(self, deployment_id: str, version: str | None = ...) -> Deployment: ...

    def stop_deployment(self, deployment_id: str, version: str | None = ...) -> Deployment: ...

    def delete_deployment(self, deployment_id: str, version: str | None = ...) -> None: ...

    def set_deployment_model_version(
        self,
        deployment_id: str,
        model_version: str,
        algorithm: str | None = ...,
        model_deployment_config: dict[str, Any] | None = ...,
        version: str | None = ...,
    ) -> Deployment: ...

    def rollback_deployment(self, deployment_id: str, version: str | None = ...) -> Deployment: ...

    def set_default_prediction_arguments(
        self,
        deployment_id: str,
        prediction_arguments: dict[str, Any],
        set_as_override: bool = ...,
        version: str | None = ...,
    ) -> Deployment: ...

    def recommend_deployment(
        self, deployment_id: str, **arguments: Unpack[RecommendArguments]
    ) -> DeploymentRecommendation: ...

    def log_response(
        self,
        deployment_id: str,
        request_id: str,
        item_id: str | None = ...,
        event: str | None = ...,
        reward: float | None = ...,
        take_up: bool | None = ...,
    ) -> ResponseLogRecord: ...

    def get_prediction_logs_records(
        self,
        deployment_id: str,
        limit: int = ...,
        last_log_request_id: str = ...,
        last_log_timestamp: str | datetime | None = ...,
    ) -> list[PredictionLogRecord]: ...

    def get_response_logs_records(
        self,
        deployment_id: str,
        limit: int = ...,
        last_log_request_id: str = ...,
        last_log_timestamp: str | datetime | None = ...,
    ) -> list[ResponseLogRecord]: ...


class Deployment(DeploymentOperations, DeploymentBatch, Resource[DeploymentCalls]):
    """A deployment version as the server described it, with the reference's methods.

    Methods that change the deployment take the server's new description
    into this object and return it, so calls chain:
    ``deployment.start().wait_for_deployment()``.
    """

    deployment_id: str
    name: str | None = None
    version: str
    #: PENDING, DEPLOYING, ACTIVE, STOPPED or FAILED
    status: str
    description: str | None = None
    deployed_at: datetime | None = None
    created_at: datetime | None = None
    project_id: str | None = None
    project_status: str | None = None
    model_id: str | None = None
    model_version: str | None = None
    model_ids: list[str] = Field(default_factory=list)
    model_version_history: list[ModelVersionEntry] = Field(default_factory=list)
    algorithm: str | None = None
    algo_name: str | None = None
    auto_deploy: bool = False
    skip_metrics_check: bool = False
    last_auto_deploy: AutoDeployDecision | None = None
    pending_model_version: PendingModelVersion | None = None
    error: str | None = None
    #: the refresh policies of the deployment: refreshPolicyId, cron, nextRunTime, ...
    refresh_schedules: list[dict[str, Any]] = Field(default_factory=list)
    realtime_monitor_id: str | None = None
    model_deployment_config: dict[str, Any] | None = None
    auto_deploy_metric: str | None = None
    auto_deploy_tolerance: float | None = None
    complexity: str | None = None
    performance_expectation: str | None = None
    #: the prediction arguments a recommend call defaults to (camelCase, as sent)
    default_prediction_arguments: dict[str, Any] = Field(default_factory=dict)
    set_as_override: bool = False
    business_rules: dict[str, Any] = Field(default_factory=dict)
    default_scenario: str | None = None
    whitelist: dict[str, Any] = Field(default_factory=dict)
    model_selector: dict[str, Any] = Field(default_factory=dict)
    parameter_access: dict[str, Any] = Field(default_factory=dict)
    pattern_selector: dict[str, Any] = Field(default_factory=dict)
    corpora: list[dict[str, Any]] = Field(default_factory=list)
    logging: dict[str, Any] = Field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Deployment(deployment_id={self.deployment_id!r}, version={self.version!r}, "
            f"status={self.status!r})"
        )

    # --- describing -------------------------------------------------------------------
    def describe(self) -> Deployment:
        return self._client.describe_deployment(self.deployment_id, self.version)

    def refresh(self) -> Deployment:
        """Describe again and take the new fields; self."""
        return self._replace_with(self.describe())

    def get_status(self) -> str:
        return self.describe().status

    def wait_for_deployment(
        self, wait_states: Collection[str] = _STARTING, timeout: float = 900
    ) -> Deployment:
        """Poll until the status leaves ``wait_states``; self (:class:`Unavailable` on timeout)."""
        return poll_until(
            self.refresh,
            lambda d: d.status not in wait_states,
            timeout=timeout,
            every=self._client.poll_seconds,
            waiting_for=lambda d: f"deployment {d.deployment_id!r} still {d.status}",
        )

    def wait_for_pending_deployment_update(self, timeout: float = 900) -> Deployment:
        """Poll until no model switch is pending and the status is stable; self."""
        return poll_until(
            self.refresh,
            lambda d: d.pending_model_version is None and d.status not in _STARTING,
            timeout=timeout,
            every=self._client.poll_seconds,
            waiting_for=lambda d: f"deployment {d.deployment_id!r}: switch still pending",
        )

    # --- management -------------------------------------------------------------------
    def update(
        self,
        description: str | None = None,
        auto_deploy: bool | None = None,
        skip_metrics_check: bool | None = None,
    ) -> Deployment:
        updated = self._client.update_deployment(
            self.deployment_id,
            description=description,
            auto_deploy=auto_deploy,
            skip_metrics_check=skip_metrics_check,
            version=self.version,
        )
        return self._replace_with(updated)

    def set_auto(self, enable: bool | None = None) -> Deployment:
        return self.update(auto_deploy=bool(enable))

    def start(self) -> Deployment:
        return self._replace_with(self._client.start_deployment(self.deployment_id, self.version))

    def stop(self) -> Deployment:
        return self._replace_with(self._client.stop_deployment(self.deployment_id, self.version))

    def delete(self) -> None:
        self._client.delete_deployment(self.deployment_id, self.version)

    def set_model_version(
        self,
        model_version: str,
        algorithm: str | None = None,
        model_deployment_config: dict[str, Any] | None = None,
    ) -> Deployment:
        """Serve ``model_version`` (loaded before the switch; see ``pending_model_version``)."""
        updated = self._client.set_deployment_model_version(
            self.deployment_id,
            model_version,
            algorithm=algorithm,
            model_deployment_config=model_deployment_config,
            version=self.version,
        )
        return self._replace_with(updated)

    def rollback(self) -> Deployment:
        """Return to the model version served before the current one."""
        return self._replace_with(
            self._client.rollback_deployment(self.deployment_id, self.version)
        )

    def set_default_prediction_arguments(
        self, prediction_arguments: dict[str, Any], set_as_override: bool = False
    ) -> Deployment:
        updated = self._client.set_default_prediction_arguments(
            self.deployment_id, prediction_arguments, set_as_override, version=self.version
        )
        return self._replace_with(updated)

    # --- serving and logs -------------------------------------------------------------
    def recommend(self, **arguments: Unpack[RecommendArguments]) -> DeploymentRecommendation:
        """``recommend(user_id=..., item_id=..., events=..., recommendation_count=...)``."""
        return self._client.recommend_deployment(self.deployment_id, **arguments)

    def log_response(
        self,
        request_id: str,
        item_id: str | None = None,
        event: str | None = None,
        reward: float | None = None,
        take_up: bool | None = None,
    ) -> ResponseLogRecord:
        return self._client.log_response(
            self.deployment_id, request_id, item_id, event, reward, take_up
        )

    def get_prediction_logs_records(
        self,
        limit: int = 10,
        last_log_request_id: str = "",
        last_log_timestamp: str | datetime | None = None,
    ) -> list[PredictionLogRecord]:
        """The newest answers first; page on with ``**records[-1].next_page()``."""
        return self._client.get_prediction_logs_records(
            self.deployment_id, limit, last_log_request_id, last_log_timestamp
        )

    def get_response_logs_records(
        self,
        limit: int = 10,
        last_log_request_id: str = "",
        last_log_timestamp: str | datetime | None = None,
    ) -> list[ResponseLogRecord]:
        """The newest responses first; page on with ``**records[-1].next_page()``."""
        return self._client.get_response_logs_records(
            self.deployment_id, limit, last_log_request_id, last_log_timestamp
        )
