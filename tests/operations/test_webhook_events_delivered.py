"""Events no other test delivers, each caused for real and delivered by the scheduler to a
real local receiver, signed: a failed deployment, a failed training, a promotion (and its
rollback), a resolved alert."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from conftest import wait_stable
from operations.conftest import recommend
from operations.receiver import Receiver, receiver
from recostack.jobs.scheduler import Scheduler
from recostack.services.webhook_payloads import SIGNATURE_HEADER, verify_signature
from recostack.settings import Settings
from recostack.store.engine import Database

Headers = dict[str, str]


def _scheduler(settings: Settings, db: Database) -> Scheduler:
    settings.webhook_backoff_seconds = 0.01
    settings.alert_evaluation_seconds = 0.001
    return Scheduler(settings, db)


def _webhook(client: TestClient, headers: Headers, hook: Receiver, event: str) -> dict[str, Any]:
    created = client.post(
        "/api/deployments/web/webhooks",
        json={"endpoint": hook.url, "webhookEventType": event},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def _deliver(scheduler: Scheduler, hook: Receiver, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(hook.requests) < count:
        assert time.monotonic() < deadline, f"{len(hook.requests)} of {count} deliveries landed"
        scheduler.tick()
        time.sleep(0.02)


def _received(hook: Receiver, webhook: dict[str, Any], event: str) -> list[dict[str, Any]]:
    """The bodies the receiver got, each checked: signed with the webhook's secret, for
    ``event`` of deployment ``web``."""
    bodies = []
    for request in hook.requests:
        assert request.path == "/hooks/recostack" and request.status == 204
        signed = request.headers[SIGNATURE_HEADER.lower()]
        assert verify_signature(webhook["secret"], signed, request.body)
        assert request.headers["x-recostack-event"] == event
        body = json.loads(request.body)
        assert body["eventType"] == event and body["deploymentId"] == "web"
        assert body["deliveryId"] == request.headers["x-recostack-delivery"]
        bodies.append(body)
    return bodies


def _delivered(client: TestClient, headers: Headers, webhook: dict[str, Any]) -> list[Any]:
    log = client.get(f"/api/webhooks/{webhook['webhookId']}/deliveries", headers=headers).json()
    return [(d["eventType"], d["status"]) for d in log]


def test_a_deployment_that_cannot_load_its_model_fires_deployment_failed(
    client: TestClient,
    admin_headers: Headers,
    web: dict[str, Any],
    train: Callable[..., str],
    settings: Settings,
    db: Database,
) -> None:
    scheduler = _scheduler(settings, db)
    broken = train()
    shutil.rmtree(settings.models_dir / broken)  # Completed, but its artifacts are gone
    with receiver() as hook:
        webhook = _webhook(client, admin_headers, hook, "DEPLOYMENT_FAILED")
        created = client.post(
            "/api/projects/shop/deployments",
            json={"deploymentId": "web", "version": "2", "modelId": broken},
            headers=admin_headers,
        )
        assert created.status_code == 201, created.text
        _deliver(scheduler, hook, 1)
        [body] = _received(hook, webhook, "DEPLOYMENT_FAILED")
    failed = client.get("/api/deployments/web", params={"version": "2"}, headers=admin_headers)
    assert failed.json()["status"] == "FAILED"
    assert body["data"]["version"] == "2" and body["data"]["status"] == "FAILED"
    assert body["data"]["error"] == failed.json()["error"]
    assert broken in body["data"]["error"]
    # version 1 still serves, and only the failure was sent
    served = client.get("/api/deployments/web", params={"version": "1"}, headers=admin_headers)
    assert served.json()["status"] == "ACTIVE"
    assert _delivered(client, admin_headers, webhook) == [("DEPLOYMENT_FAILED", "delivered")]


def test_a_failed_training_in_the_project_fires_model_failed(
    client: TestClient,
    admin_headers: Headers,
    web: dict[str, Any],
    container: str,
    run_jobs: Callable[[], int],
    settings: Settings,
    db: Database,
) -> None:
    scheduler = _scheduler(settings, db)
    with receiver() as hook:
        webhook = _webhook(client, admin_headers, hook, "MODEL_FAILED")
        created = client.post(
            "/api/models",
            json={
                "blobContainerName": container,
                "usageRelativePath": "bad.csv",
                "projectId": "shop",
            },
            headers=admin_headers,
        )
        assert created.status_code == 201, created.text
        model_id = created.json()["id"]
        run_jobs()
        _deliver(scheduler, hook, 1)
        [body] = _received(hook, webhook, "MODEL_FAILED")
    model = client.get(f"/api/models/{model_id}", headers=admin_headers).json()
    assert model["modelStatus"] == "Failed"
    assert body["data"]["modelId"] == model_id
    assert body["data"]["modelStatus"] == "Failed"
    assert body["data"]["message"] == model["modelStatusMessage"]
    assert _delivered(client, admin_headers, webhook) == [("MODEL_FAILED", "delivered")]


def test_a_promotion_and_its_rollback_fire_promotion_succeeded(
    client: TestClient,
    admin_headers: Headers,
    web: dict[str, Any],
    trained_model: dict[str, Any],
    train: Callable[..., str],
    settings: Settings,
    db: Database,
) -> None:
    scheduler = _scheduler(settings, db)
    second = train()
    with receiver() as hook:
        webhook = _webhook(client, admin_headers, hook, "PROMOTION_SUCCEEDED")
        promoted = client.post(
            "/api/deployments/web/set-model-version",
            json={"modelVersion": second},
            headers=admin_headers,
        )
        assert promoted.status_code == 200, promoted.text
        assert wait_stable(client, admin_headers, "web")["modelVersion"] == second
        _deliver(scheduler, hook, 1)
        rolled = client.post("/api/deployments/web/rollback", headers=admin_headers)
        assert rolled.status_code == 200, rolled.text
        assert wait_stable(client, admin_headers, "web")["modelVersion"] == trained_model["id"]
        _deliver(scheduler, hook, 2)
        promotion, rollback = _received(hook, webhook, "PROMOTION_SUCCEEDED")
    assert promotion["data"] == {"version": "1", "modelVersion": second, "rollback": False}
    assert rollback["data"] == {
        "version": "1",
        "modelVersion": trained_model["id"],
        "rollback": True,
    }
    assert _delivered(client, admin_headers, webhook) == [
        ("PROMOTION_SUCCEEDED", "delivered"),
        ("PROMOTION_SUCCEEDED", "delivered"),
    ]


def test_a_resolved_alert_fires_alert_resolved(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    web: dict[str, Any],
    settings: Settings,
    db: Database,
) -> None:
    scheduler = _scheduler(settings, db)
    with receiver() as hook:
        # listens to the resolution only: the firing is not sent to it
        webhook = _webhook(client, admin_headers, hook, "ALERT_RESOLVED")
        created = client.post(
            "/api/deployments/web/alerts",
            json={
                "alertName": "errors",
                "conditionConfig": {"type": "ERROR_RATE", "threshold": 0.5},
                "actionConfig": {"type": "WEBHOOK"},
            },
            headers=admin_headers,
        )
        assert created.status_code == 201, created.text
        alert_id = created.json()["alertId"]
        assert recommend(client, recommend_headers, recommendationCount=0).status_code == 400
        serving = client.app.state.serving  # type: ignore[attr-defined]
        serving.statistics.flush()
        now = datetime.now(UTC)
        scheduler.tick(now=now)
        path = f"/api/alerts/{alert_id}"
        assert client.get(path, headers=admin_headers).json()["state"] == "FIRING"
        # ten minutes on, the window holds no request: resolved
        scheduler.tick(now=now + timedelta(minutes=10))
        assert client.get(path, headers=admin_headers).json()["state"] == "RESOLVED"
        _deliver(scheduler, hook, 1)
        [body] = _received(hook, webhook, "ALERT_RESOLVED")
    assert body["data"]["alertId"] == alert_id and body["data"]["alertName"] == "errors"
    assert body["data"]["state"] == "RESOLVED" and body["data"]["value"] is None
    assert body["data"]["threshold"] == 0.5
    assert body["data"]["message"] == (
        "alert 'errors' RESOLVED: ERROR_RATE > 0.5 over 5 min (value no data)"
    )
    assert _delivered(client, admin_headers, webhook) == [("ALERT_RESOLVED", "delivered")]
