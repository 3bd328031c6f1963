"""The operations calls of the client: statistics, webhooks, refresh policies, alerts,
the realtime monitor, probes. Each is written here once; :class:`Deployment` and
:class:`RefreshPolicy` delegate to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from recostack.client._http import HttpSession
from recostack.client._operations import (
    Alert,
    DeploymentStatistics,
    MonitorResult,
    Readiness,
    RealtimeMonitor,
    RefreshPolicy,
    Webhook,
    WebhookDelivery,
)
from recostack.client._wire import camel_body

__all__ = ["OperationsCalls"]


def _time(value: str | datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def _camel_deep(value: Any) -> Any:
    """A config's keys in camelCase, nested ones too (``window_minutes`` → ``windowMinutes``)."""
    if isinstance(value, dict):
        return {k: _camel_deep(v) for k, v in camel_body(value).items()}
    return value


class OperationsCalls(HttpSession):
    # --- statistics and probes -----------------------------------------------------------
    def get_statistics_over_time(
        self,
        deployment_id: str,
        start_date: str | datetime | None = None,
        end_date: str | datetime | None = None,
        interval: str | None = None,
        version: str | None = None,
    ) -> DeploymentStatistics:
        """Requests, errors, latency percentiles, take-ups and users per interval (minute,
        hour or day: chosen from the range unless given); default the last 24 hours."""
        params = camel_body(
            {
                "start_date": _time(start_date),
                "end_date": _time(end_date),
                "interval": interval,
                "version": version,
            }
        )
        answer = self._call("GET", f"/api/deployments/{deployment_id}/statistics", params=params)
        return DeploymentStatistics.from_wire(answer)

    def health(self) -> bool:
        """Whether the server answers ``/healthz``."""
        return bool(self._call("GET", "/healthz")["status"] == "ok")

    def readiness(self) -> Readiness:
        """``/readyz``: what is ready (a 503 with what is not comes back as its body too)."""
        response = self._http.get("/readyz")
        return Readiness.from_wire(response.json())

    # --- webhooks ------------------------------------------------------------------------
    def create_webhook(
        self,
        deployment_id: str,
        endpoint: str,
        webhook_event_type: str,
        payload_template: dict[str, Any] | None = None,
    ) -> Webhook:
        """A webhook of the deployment; the answer's ``secret`` signs every delivery (keep it:
        it is not shown again)."""
        body = camel_body(
            {
                "endpoint": endpoint,
                "webhook_event_type": webhook_event_type,
                "payload_template": payload_template,
            }
        )
        answer = self._call("POST", f"/api/deployments/{deployment_id}/webhooks", json=body)
        return Webhook.from_wire(answer)

    def list_webhooks(self, deployment_id: str) -> list[Webhook]:
        return Webhook.list_from_wire(
            self._call("GET", f"/api/deployments/{deployment_id}/webhooks")
        )

    def describe_webhook(self, webhook_id: str) -> Webhook:
        return Webhook.from_wire(self._call("GET", f"/api/webhooks/{webhook_id}"))

    def delete_webhook(self, webhook_id: str) -> None:
        self._call("DELETE", f"/api/webhooks/{webhook_id}")

    def list_webhook_deliveries(self, webhook_id: str, limit: int = 100) -> list[WebhookDelivery]:
        """The delivery log, newest first."""
        answer = self._call(
            "GET", f"/api/webhooks/{webhook_id}/deliveries", params={"limit": limit}
        )
        return WebhookDelivery.list_from_wire(answer)

    # --- refresh policies ----------------------------------------------------------------
    def create_refresh_policy(
        self,
        cron: str,
        deployment_id: str | None = None,
        model_id: str | None = None,
        name: str | None = None,
    ) -> RefreshPolicy:
        """Retrain a deployment's model (``deployment_id``) or a model lineage (``model_id``)
        on a cron schedule (UTC)."""
        if (deployment_id is None) == (model_id is None):
            raise ValueError("give deployment_id or model_id")
        owner = f"deployments/{deployment_id}" if deployment_id else f"models/{model_id}"
        body = camel_body({"cron": cron, "name": name})
        answer = self._call("POST", f"/api/{owner}/refresh-policies", json=body)
        return RefreshPolicy.bound(self, answer)

    def list_refresh_policies(
        self, deployment_id: str | None = None, model_id: str | None = None
    ) -> list[RefreshPolicy]:
        """Every policy, or a deployment's, or a model lineage's."""
        if deployment_id is not None:
            path = f"/api/deployments/{deployment_id}/refresh-policies"
        elif model_id is not None:
            path = f"/api/models/{model_id}/refresh-policies"
        else:
            path = "/api/refresh-policies"
        return RefreshPolicy.bound_list(self, self._call("GET", path))

    def describe_refresh_policy(self, refresh_policy_id: str) -> RefreshPolicy:
        answer = self._call("GET", f"/api/refresh-policies/{refresh_policy_id}")
        return RefreshPolicy.bound(self, answer)

    def _policy_action(self, refresh_policy_id: str, action: str) -> RefreshPolicy:
        answer = self._call("POST", f"/api/refresh-policies/{refresh_policy_id}/{action}")
        return RefreshPolicy.bound(self, answer)

    def pause_refresh_policy(self, refresh_policy_id: str) -> RefreshPolicy:
        return self._policy_action(refresh_policy_id, "pause")

    def resume_refresh_policy(self, refresh_policy_id: str) -> RefreshPolicy:
        return self._policy_action(refresh_policy_id, "resume")

    def run_refresh_policy(self, refresh_policy_id: str) -> RefreshPolicy:
        return self._policy_action(refresh_policy_id, "run")

    def delete_refresh_policy(self, refresh_policy_id: str) -> None:
        self._call("DELETE", f"/api/refresh-policies/{refresh_policy_id}")

    # --- alerts --------------------------------------------------------------------------
    def create_alert(
        self,
        deployment_id: str,
        alert_name: str,
        condition_config: dict[str, Any],
        action_config: dict[str, Any] | None = None,
    ) -> Alert:
        """``condition_config``: ``{"type": "ERROR_RATE", "threshold": 0.05,
        "window_minutes": 5, "occurrences": 3, "period_minutes": 15}``; ``action_config``:
        ``{"type": "WEBHOOK"}`` (default) or ``{"type": "LOG"}``."""
        body: dict[str, Any] = {
            "alertName": alert_name,
            "conditionConfig": _camel_deep(condition_config),
        }
        if action_config is not None:
            body["actionConfig"] = _camel_deep(action_config)
        answer = self._call("POST", f"/api/deployments/{deployment_id}/alerts", json=body)
        return Alert.from_wire(answer)

    def list_alerts(self, deployment_id: str) -> list[Alert]:
        return Alert.list_from_wire(self._call("GET", f"/api/deployments/{deployment_id}/alerts"))

    def describe_alert(self, alert_id: str) -> Alert:
        """The alert with the history of its states, newest first."""
        return Alert.from_wire(self._call("GET", f"/api/alerts/{alert_id}"))

    def delete_alert(self, alert_id: str) -> None:
        self._call("DELETE", f"/api/alerts/{alert_id}")

    # --- the realtime monitor ------------------------------------------------------------
    def create_realtime_monitor(
        self,
        deployment_id: str,
        realtime_monitor_schedule: str | None = None,
        lookback_time: int | None = None,
    ) -> RealtimeMonitor:
        """A cron schedule (default hourly) and a lookback in seconds (default a day)."""
        body = camel_body(
            {"realtime_monitor_schedule": realtime_monitor_schedule, "lookback_time": lookback_time}
        )
        path = f"/api/deployments/{deployment_id}/realtime-monitor"
        return RealtimeMonitor.from_wire(self._call("POST", path, json=body))

    def describe_realtime_monitor(self, deployment_id: str) -> RealtimeMonitor:
        path = f"/api/deployments/{deployment_id}/realtime-monitor"
        return RealtimeMonitor.from_wire(self._call("GET", path))

    def run_realtime_monitor(self, deployment_id: str) -> MonitorResult:
        path = f"/api/deployments/{deployment_id}/realtime-monitor/run"
        return MonitorResult.from_wire(self._call("POST", path))

    def delete_realtime_monitor(self, deployment_id: str) -> None:
        self._call("DELETE", f"/api/deployments/{deployment_id}/realtime-monitor")
