"""Alerts evaluated by the scheduler (states, history, webhook action) and the realtime monitor."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from operations.conftest import recommend
from operations.receiver import receiver
from recostack.jobs.scheduler import Scheduler
from recostack.settings import Settings
from recostack.store.engine import Database


def _flush(client: TestClient) -> None:
    serving = client.app.state.serving  # type: ignore[attr-defined]
    serving.prediction_logger.flush()
    serving.statistics.flush()


def test_an_error_rate_alert_fires_n_times_in_t_minutes_then_resolves(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    web: dict[str, Any],
    settings: Settings,
    db: Database,
) -> None:
    settings.alert_evaluation_seconds = 0.001
    settings.webhook_backoff_seconds = 0.01
    scheduler = Scheduler(settings, db)
    with receiver() as hook:
        client.post(
            "/api/deployments/web/webhooks",
            json={"endpoint": hook.url, "webhookEventType": "ALERT_FIRING"},
            headers=admin_headers,
        )
        created = client.post(
            "/api/deployments/web/alerts",
            json={
                "alertName": "errors",
                "conditionConfig": {
                    "type": "ERROR_RATE",
                    "threshold": 0.25,
                    "windowMinutes": 5,
                    "occurrences": 2,
                    "periodMinutes": 10,
                },
                "actionConfig": {"type": "WEBHOOK"},
            },
            headers=admin_headers,
        )
        assert created.status_code == 201, created.text
        alert = created.json()
        assert alert["state"] == "OK"
        assert alert["conditionDescription"] == "ERROR_RATE > 0.25 over 5 min, 2 times in 10 min"
        recommend(client, recommend_headers, userId="user1")
        for _ in range(3):  # 3 of 4 requests fail: an error rate of 0.75
            recommend(client, recommend_headers, recommendationCount=0)
        _flush(client)
        now = datetime.now(UTC)
        scheduler.tick(now=now)
        path = f"/api/alerts/{alert['alertId']}"
        once = client.get(path, headers=admin_headers).json()
        assert once["state"] == "OK" and once["lastValue"] == 0.75  # one breach of two
        scheduler.tick(now=now + timedelta(seconds=30))
        fired = client.get(path, headers=admin_headers).json()
        assert fired["state"] == "FIRING"
        assert [e["state"] for e in fired["history"]] == ["FIRING"]
        deadline = time.monotonic() + 20
        while not hook.requests:
            assert time.monotonic() < deadline
            scheduler.tick(now=now + timedelta(seconds=31))
            time.sleep(0.02)
        sent = json.loads(hook.requests[0].body)
        assert sent["eventType"] == "ALERT_FIRING"
        assert sent["data"]["alertName"] == "errors" and sent["data"]["value"] == 0.75
    # ten minutes on, the window holds no request: the condition does not hold
    scheduler.tick(now=now + timedelta(minutes=10))
    resolved = client.get(path, headers=admin_headers).json()
    assert resolved["state"] == "RESOLVED"
    assert [e["state"] for e in resolved["history"]] == ["RESOLVED", "FIRING"]
    listed = client.get("/api/deployments/web/alerts", headers=admin_headers).json()
    assert [a["alertId"] for a in listed] == [alert["alertId"]]
    assert client.delete(path, headers=admin_headers).status_code == 204


def test_a_request_rate_drop_alert_logs_when_it_fires_and_resolves(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    web: dict[str, Any],
    settings: Settings,
    db: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.alert_evaluation_seconds = 0.001
    scheduler = Scheduler(settings, db)
    created = client.post(
        "/api/deployments/web/alerts",
        json={
            "alertName": "quiet",
            "conditionConfig": {"type": "REQUEST_RATE_DROP", "threshold": 0.5, "windowMinutes": 5},
            "actionConfig": {"type": "LOG"},
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    alert = created.json()
    assert alert["conditionDescription"] == "REQUEST_RATE_DROP > 0.5 over 5 min"
    for user in range(4):
        assert recommend(client, recommend_headers, userId=f"user{user}").status_code == 200
    _flush(client)
    now = datetime.now(UTC)
    path = f"/api/alerts/{alert['alertId']}"
    # now: 4 requests in the window, none in the one before: no drop to measure
    scheduler.tick(now=now)
    first = client.get(path, headers=admin_headers).json()
    assert first["state"] == "OK" and first["lastValue"] is None
    # five minutes on: none in the window, 4 in the one before: the rate fell by all of it
    with caplog.at_level(logging.WARNING, logger="recostack.services.alerts"):
        scheduler.tick(now=now + timedelta(minutes=5))
    fired = client.get(path, headers=admin_headers).json()
    assert fired["state"] == "FIRING" and fired["lastValue"] == 1.0
    assert [e["state"] for e in fired["history"]] == ["FIRING"]
    logged = "deployment web: alert 'quiet' FIRING: REQUEST_RATE_DROP > 0.5 over 5 min (value 1)"
    assert logged in caplog.text
    # ten minutes on, neither window holds a request: no drop, resolved (and logged)
    with caplog.at_level(logging.WARNING, logger="recostack.services.alerts"):
        scheduler.tick(now=now + timedelta(minutes=10))
    resolved = client.get(path, headers=admin_headers).json()
    assert resolved["state"] == "RESOLVED" and resolved["lastValue"] is None
    assert [e["state"] for e in resolved["history"]] == ["RESOLVED", "FIRING"]
    assert "alert 'quiet' RESOLVED: REQUEST_RATE_DROP > 0.5 over 5 min (value no data)" in (
        caplog.text
    )


def test_unknown_statistics_are_refused(
    client: TestClient, admin_headers: dict[str, str], web: dict[str, Any]
) -> None:
    def create(condition: dict[str, Any]) -> Any:
        body = {"alertName": "x", "conditionConfig": condition}
        return client.post("/api/deployments/web/alerts", json=body, headers=admin_headers)

    unknown = create({"type": "CPU_USAGE", "threshold": 1})
    assert unknown.status_code == 400 and unknown.json()["field"] == "conditionConfig.type"
    metric = create({"type": "MONITOR_METRIC", "threshold": 1, "metric": "vibes"})
    assert metric.status_code == 400 and metric.json()["field"] == "conditionConfig.metric"
    mismatch = create({"type": "ERROR_RATE", "threshold": 1, "metric": "ndcg@10"})
    assert mismatch.status_code == 422 and mismatch.json()["field"] == "conditionConfig.metric"
    assert client.get("/api/deployments/web/alerts", headers=admin_headers).json() == []


def test_the_realtime_monitor_measures_answers_against_training_data(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    web: dict[str, Any],
    settings: Settings,
    db: Database,
) -> None:
    created = client.post(
        "/api/deployments/web/realtime-monitor",
        json={"realtimeMonitorSchedule": "*/5 * * * *", "lookbackTime": 3600},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    monitor = created.json()
    described = client.get("/api/deployments/web", headers=admin_headers).json()
    assert described["realtimeMonitorId"] == monitor["realtimeMonitorId"]
    answers = [
        recommend(client, recommend_headers, userId=f"user{u}", itemId=f"item{u % 12}").json()
        for u in range(12)
    ]
    answers.append(recommend(client, recommend_headers, itemId="no-such-item").json())
    client.post(
        "/api/deployments/web/responses",
        json={"requestId": answers[0]["requestId"], "takeUp": True},
        headers=recommend_headers,
    )
    _flush(client)
    first = client.post("/api/deployments/web/realtime-monitor/run", headers=admin_headers)
    assert first.status_code == 200, first.text
    metrics = first.json()["metrics"]
    assert metrics["answers"] == 13 and metrics["takeUps"] == 1
    assert metrics["takeUpRate"] == 1 / 13
    assert 0 < metrics["catalogCoverage"] <= 1
    # the unknown item is answered with popular items only: a backfilled answer
    assert metrics["backfillShare"] >= 1 / 13
    assert metrics["popularityPsi"] >= 0 and len(metrics["popularityGroups"]) == 10
    assert metrics["scorePsi"] == 0.0  # the first result is the score baseline
    # the scheduler runs it when it is due, once
    settings.alert_evaluation_seconds = 0.001
    scheduler = Scheduler(settings, db)
    later = datetime.now(UTC) + timedelta(minutes=6)
    assert scheduler.tick(now=later).monitors == 1
    assert scheduler.tick(now=later).monitors == 0
    results = client.get("/api/deployments/web/realtime-monitor", headers=admin_headers).json()
    assert len(results["results"]) == 2 and results["results"][0]["metrics"]["scorePsi"] >= 0
    again = client.post("/api/deployments/web/realtime-monitor", json={}, headers=admin_headers)
    assert again.status_code == 409
    # an alert on a monitor figure
    alert = client.post(
        "/api/deployments/web/alerts",
        json={
            "alertName": "coverage",
            "conditionConfig": {
                "type": "MONITOR_METRIC",
                "metric": "catalogCoverage",
                "operator": "below",
                "threshold": 2.0,
            },
            "actionConfig": {"type": "LOG"},
        },
        headers=admin_headers,
    ).json()
    scheduler.tick(now=later + timedelta(seconds=1))
    state = client.get(f"/api/alerts/{alert['alertId']}", headers=admin_headers).json()
    assert state["state"] == "FIRING" and state["lastValue"] == metrics["catalogCoverage"]


def test_deleting_a_deployment_deletes_what_is_attached_to_it(
    client: TestClient, admin_headers: dict[str, str], web: dict[str, Any]
) -> None:
    base = "/api/deployments/web"
    hook = client.post(
        f"{base}/webhooks",
        json={"endpoint": "http://127.0.0.1:9/x", "webhookEventType": "MODEL_TRAINED"},
        headers=admin_headers,
    ).json()["webhookId"]
    alert = client.post(
        f"{base}/alerts",
        json={"alertName": "e", "conditionConfig": {"type": "ERROR_RATE", "threshold": 0.5}},
        headers=admin_headers,
    ).json()["alertId"]
    policy = client.post(
        f"{base}/refresh-policies", json={"cron": "0 3 * * *"}, headers=admin_headers
    ).json()["refreshPolicyId"]
    client.post(f"{base}/realtime-monitor", json={}, headers=admin_headers)
    assert client.delete(base, headers=admin_headers).status_code == 204
    for path in (
        f"/api/webhooks/{hook}",
        f"/api/alerts/{alert}",
        f"/api/refresh-policies/{policy}",
        f"{base}/realtime-monitor",
    ):
        assert client.get(path, headers=admin_headers).status_code == 404, path
