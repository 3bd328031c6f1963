"""The reference's operations methods of a ``Deployment``: statistics over time, alerts,
the realtime monitor, webhooks and refresh policies, each delegating to one client call."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, cast

from recostack.client._operations import (
    Alert,
    DeploymentStatistics,
    RealtimeMonitor,
    RefreshPolicy,
    Webhook,
)

__all__ = ["DeploymentOperations", "OperationsOfDeployment"]


class OperationsOfDeployment(Protocol):
    """The calls of the client these methods use."""

    def get_statistics_over_time(
        self,
        deployment_id: str,
        start_date: str | datetime | None = ...,
        end_date: str | datetime | None = ...,
        interval: str | None = ...,
        version: str | None = ...,
    ) -> DeploymentStatistics: ...

    def create_alert(
        self,
        deployment_id: str,
        alert_name: str,
        condition_config: dict[str, Any],
        action_config: dict[str, Any] | None = ...,
    ) -> Alert: ...

    def list_alerts(self, deployment_id: str) -> list[Alert]: ...

    def create_realtime_monitor(
        self,
        deployment_id: str,
        realtime_monitor_schedule: str | None = ...,
        lookback_time: int | None = ...,
    ) -> RealtimeMonitor: ...

    def create_webhook(
        self,
        deployment_id: str,
        endpoint: str,
        webhook_event_type: str,
        payload_template: dict[str, Any] | None = ...,
    ) -> Webhook: ...

    def list_webhooks(self, deployment_id: str) -> list[Webhook]: ...

    def create_refresh_policy(
        self,
        cron: str,
        deployment_id: str | None = ...,
        model_id: str | None = ...,
        name: str | None = ...,
    ) -> RefreshPolicy: ...

    def list_refresh_policies(
        self, deployment_id: str | None = ..., model_id: str | None = ...
    ) -> list[RefreshPolicy]: ...


class DeploymentOperations:
    """Mixed into :class:`~recostack.client.Deployment` (which has ``deployment_id`` and a
    client holding these calls)."""

    def _operations(self) -> tuple[OperationsOfDeployment, str]:
        client = cast(OperationsOfDeployment, getattr(self, "_client"))  # noqa: B009
        return client, str(getattr(self, "deployment_id"))  # noqa: B009

    def get_statistics_over_time(
        self,
        start_date: str | datetime | None = None,
        end_date: str | datetime | None = None,
        interval: str | None = None,
    ) -> DeploymentStatistics:
        """Requests, errors, latency percentiles, take-ups and users per interval."""
        client, deployment_id = self._operations()
        return client.get_statistics_over_time(deployment_id, start_date, end_date, interval)

    def create_alert(
        self,
        alert_name: str,
        condition_config: dict[str, Any],
        action_config: dict[str, Any] | None = None,
    ) -> Alert:
        client, deployment_id = self._operations()
        return client.create_alert(deployment_id, alert_name, condition_config, action_config)

    def list_alerts(self) -> list[Alert]:
        client, deployment_id = self._operations()
        return client.list_alerts(deployment_id)

    def create_realtime_monitor(
        self, realtime_monitor_schedule: str | None = None, lookback_time: int | None = None
    ) -> RealtimeMonitor:
        client, deployment_id = self._operations()
        return client.create_realtime_monitor(
            deployment_id, realtime_monitor_schedule, lookback_time
        )

    def create_webhook(
        self,
        endpoint: str,
        webhook_event_type: str,
        payload_template: dict[str, Any] | None = None,
    ) -> Webhook:
        client, deployment_id = self._operations()
        return client.create_webhook(deployment_id, endpoint, webhook_event_type, payload_template)

    def list_webhooks(self) -> list[Webhook]:
        client, deployment_id = self._operations()
        return client.list_webhooks(deployment_id)

    def create_refresh_policy(self, cron: str) -> RefreshPolicy:
        client, deployment_id = self._operations()
        return client.create_refresh_policy(cron, deployment_id=deployment_id)

    def list_refresh_policies(self) -> list[RefreshPolicy]:
        client, deployment_id = self._operations()
        return client.list_refresh_policies(deployment_id=deployment_id)
