"""Typed answers of the operations calls: statistics, webhooks, refresh policies, alerts,
the realtime monitor, readiness. Each keeps the JSON the server sent (``to_dict()``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import Field

from recostack.client._wire import Resource, WireRecord

__all__ = [
    "Alert",
    "AlertEvent",
    "DeploymentStatistics",
    "MonitorResult",
    "Readiness",
    "RealtimeMonitor",
    "RefreshPolicy",
    "RefreshPolicyCalls",
    "StatisticsFigures",
    "StatisticsInterval",
    "Webhook",
    "WebhookDelivery",
]


class StatisticsFigures(WireRecord):
    """What a deployment did in an interval (or over the whole range)."""

    requests: int
    requests_per_second: float
    errors: int
    errors_4xx: int = Field(alias="errors4xx")
    errors_5xx: int = Field(alias="errors5xx")
    error_rate: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_mean_ms: float | None = None
    responses: int
    take_ups: int
    take_up_rate: float | None = None
    distinct_users: int


class StatisticsInterval(StatisticsFigures):
    start: datetime
    end: datetime


class DeploymentStatistics(WireRecord):
    """``get_statistics_over_time``: the reference's series, and every figure per interval."""

    deployment_id: str
    version: str | None = None
    start_date: datetime
    end_date: datetime
    interval: str
    date_labels: list[datetime]
    request_series: list[float]
    latency_series: list[float | None]
    http_status_series: list[dict[str, int]]
    intervals: list[StatisticsInterval]
    summary: StatisticsFigures


class Webhook(WireRecord):
    webhook_id: str
    deployment_id: str
    endpoint: str
    webhook_event_type: str
    payload_template: dict[str, Any] | None = None
    created_at: datetime | None = None
    #: the signing secret: only in the answer to ``create_webhook``
    secret: str | None = None


class WebhookDelivery(WireRecord):
    delivery_id: str
    webhook_id: str
    event_type: str
    #: pending, delivered or failed
    status: str
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None
    delivered_at: datetime | None = None


class RefreshPolicyCalls(Protocol):
    def pause_refresh_policy(self, refresh_policy_id: str) -> RefreshPolicy: ...

    def resume_refresh_policy(self, refresh_policy_id: str) -> RefreshPolicy: ...

    def run_refresh_policy(self, refresh_policy_id: str) -> RefreshPolicy: ...

    def delete_refresh_policy(self, refresh_policy_id: str) -> None: ...


class RefreshPolicy(Resource[RefreshPolicyCalls]):
    """A cron schedule retraining a deployment's model (or a model lineage)."""

    refresh_policy_id: str
    name: str
    cron: str
    #: DEPLOYMENT or MODEL
    refresh_type: str
    deployment_ids: list[str] = Field(default_factory=list)
    model_ids: list[str] = Field(default_factory=list)
    project_id: str | None = None
    paused: bool = False
    next_run_time: datetime | None = None
    created_at: datetime | None = None
    last_run_time: datetime | None = None
    last_model_id: str | None = None
    error: str | None = None

    def pause(self) -> RefreshPolicy:
        return self._replace_with(self._client.pause_refresh_policy(self.refresh_policy_id))

    def resume(self) -> RefreshPolicy:
        return self._replace_with(self._client.resume_refresh_policy(self.refresh_policy_id))

    def run(self) -> RefreshPolicy:
        """Refresh now; ``last_model_id`` names the model being trained."""
        return self._replace_with(self._client.run_refresh_policy(self.refresh_policy_id))

    def delete(self) -> None:
        self._client.delete_refresh_policy(self.refresh_policy_id)


class AlertEvent(WireRecord):
    state: str
    value: float | None = None
    message: str
    at: datetime | None = None


class Alert(WireRecord):
    alert_id: str
    name: str
    deployment_id: str
    condition_config: dict[str, Any]
    action_config: dict[str, Any]
    condition_description: str
    #: OK, FIRING or RESOLVED
    state: str
    state_since: datetime | None = None
    last_value: float | None = None
    last_evaluated_at: datetime | None = None
    created_at: datetime | None = None
    history: list[AlertEvent] = Field(default_factory=list)


class MonitorResult(WireRecord):
    computed_at: datetime | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    model_id: str | None = None
    metrics: dict[str, Any]


class RealtimeMonitor(WireRecord):
    realtime_monitor_id: str
    deployment_id: str
    realtime_monitor_schedule: str
    lookback_time: int
    next_run_time: datetime | None = None
    last_run_time: datetime | None = None
    error: str | None = None
    created_at: datetime | None = None
    results: list[MonitorResult] = Field(default_factory=list)


class Readiness(WireRecord):
    status: str
    not_ready: list[str]
    checks: dict[str, dict[str, Any]]
