"""The SDK's operations calls against a real server, with the reference's names."""

from __future__ import annotations

from typer.testing import CliRunner

from client.conftest import LiveServer, live_server  # noqa: F401 (the live server fixture)
from conftest import ADMIN_KEY
from recostack.cli import _register, app
from recostack.client import (
    Alert,
    DeploymentStatistics,
    RealtimeMonitor,
    RefreshPolicy,
    Webhook,
)
from recostack.errors import Invalid, NotFound

_register()


def test_statistics_alerts_monitor_webhooks_and_refresh_policies(
    live_server: LiveServer,  # noqa: F811
) -> None:
    with live_server.client() as client:
        assert client.health()
        assert client.readiness().status in ("ready", "not ready")
        project = f"ops-{live_server.backend}"
        client.create_project(project)
        deployment = client.create_deployment(
            project, f"{project}-web", model_id=live_server.model_id, complexity="Low"
        )
        assert deployment.status == "PENDING"
        deployment.wait_for_deployment(timeout=60)
        assert deployment.status == "ACTIVE" and deployment.complexity == "Low"
        answer = deployment.recommend(user_id="user1", item_id="item1")
        deployment.log_response(answer.request_id, take_up=True)

        stats = deployment.get_statistics_over_time()
        assert isinstance(stats, DeploymentStatistics) and stats.interval == "hour"
        assert stats.summary.requests >= 1 and stats.summary.take_ups == 1
        assert len(stats.date_labels) == len(stats.request_series) in (24, 25)
        shown = CliRunner().invoke(
            app,
            ["deployments", "stats", deployment.deployment_id, "--since", "1h"],
            env={"RECOSTACK_URL": live_server.url, "RECOSTACK_API_KEY": ADMIN_KEY},
        )
        assert shown.exit_code == 0, shown.output
        assert "requests" in shown.output and "p99 ms" in shown.output
        assert any(bar in shown.output for bar in "▁▂▃▄▅▆▇█")
        wrong = CliRunner().invoke(
            app,
            ["deployments", "stats", deployment.deployment_id, "--since", "soon"],
            env={"RECOSTACK_URL": live_server.url, "RECOSTACK_API_KEY": ADMIN_KEY},
        )
        assert wrong.exit_code != 0

        hook = deployment.create_webhook("http://127.0.0.1:9/hook", "ALERT_FIRING")
        assert isinstance(hook, Webhook) and hook.secret
        assert [w.webhook_id for w in deployment.list_webhooks()] == [hook.webhook_id]
        assert client.list_webhook_deliveries(hook.webhook_id) == []

        alert = deployment.create_alert(
            "slow",
            {"type": "LATENCY_P99", "threshold": 500, "window_minutes": 10},
            {"type": "WEBHOOK", "webhook_id": hook.webhook_id},
        )
        assert isinstance(alert, Alert) and alert.state == "OK"
        assert alert.condition_config["windowMinutes"] == 10
        assert [a.alert_id for a in deployment.list_alerts()] == [alert.alert_id]

        monitor = deployment.create_realtime_monitor("0 * * * *", 3600)
        assert isinstance(monitor, RealtimeMonitor) and monitor.lookback_time == 3600
        assert deployment.refresh().realtime_monitor_id == monitor.realtime_monitor_id

        policy = deployment.create_refresh_policy("0 4 * * *")
        assert isinstance(policy, RefreshPolicy) and policy.refresh_type == "DEPLOYMENT"
        assert policy.pause().paused and not policy.resume().paused
        assert deployment.refresh().refresh_schedules[0]["cron"] == "0 4 * * *"
        assert [p.refresh_policy_id for p in deployment.list_refresh_policies()] == [
            policy.refresh_policy_id
        ]
        policy.delete()
        try:
            client.describe_refresh_policy(policy.refresh_policy_id)
        except NotFound as exc:
            assert exc.field == "refresh_policy_id"
        else:
            raise AssertionError("a deleted policy was found")
        try:
            deployment.create_refresh_policy("every day")
        except Invalid as exc:
            assert exc.field == "cron"
        else:
            raise AssertionError("a bad cron was accepted")
        deployment.delete()
