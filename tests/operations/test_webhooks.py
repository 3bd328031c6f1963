"""Webhooks through HTTP, delivered by the scheduler to a real local receiver."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.testclient import TestClient

from operations.conftest import wait_stable
from operations.receiver import receiver
from recostack.jobs.scheduler import Scheduler
from recostack.services.webhook_payloads import SIGNATURE_HEADER, verify_signature
from recostack.settings import Settings
from recostack.store.engine import Database


def _deliver_until(scheduler: Scheduler, done: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the deliveries did not finish"
        scheduler.tick()
        time.sleep(0.02)


def test_a_signed_delivery_is_retried_with_backoff_until_it_lands(
    client: TestClient,
    admin_headers: dict[str, str],
    web: dict[str, Any],
    settings: Settings,
    db: Database,
) -> None:
    settings.webhook_backoff_seconds = 0.05
    scheduler = Scheduler(settings, db)
    with receiver(fail_first=2) as hook:
        created = client.post(
            "/api/deployments/web/webhooks",
            json={
                "endpoint": hook.url,
                "webhookEventType": "DEPLOYMENT_STOP",
                "payloadTemplate": {
                    "text": "{{deploymentId}} v{{version}} is {{status}}",
                    "event": "{{eventType}}",
                    "attempt": "{{attempt}}",
                },
            },
            headers=admin_headers,
        )
        assert created.status_code == 201, created.text
        webhook = created.json()
        secret = webhook["secret"]
        assert secret.startswith("whsec_")
        listed = client.get("/api/deployments/web/webhooks", headers=admin_headers).json()
        assert [w["webhookId"] for w in listed] == [webhook["webhookId"]]
        assert listed[0]["secret"] is None  # shown once
        assert client.post("/api/deployments/web/stop", headers=admin_headers).status_code == 200
        _deliver_until(scheduler, lambda: any(r.status == 204 for r in hook.requests))
        assert [r.status for r in hook.requests] == [500, 500, 204]
        final = hook.requests[-1]
        assert final.path == "/hooks/recostack"
        signed = final.headers[SIGNATURE_HEADER.lower()]
        assert verify_signature(secret, signed, final.body)
        assert not verify_signature(secret + "x", signed, final.body)
        assert json.loads(final.body) == {
            "text": "web v1 is STOPPED",
            "event": "DEPLOYMENT_STOP",
            "attempt": 3,
        }
        assert final.headers["x-recostack-event"] == "DEPLOYMENT_STOP"
    log = client.get(
        f"/api/webhooks/{webhook['webhookId']}/deliveries", headers=admin_headers
    ).json()
    assert len(log) == 1
    assert (log[0]["status"], log[0]["attempts"]) == ("delivered", 3)
    assert log[0]["lastStatusCode"] == 204 and log[0]["lastError"] is None


def test_a_delivery_that_never_lands_fails_after_its_attempts(
    client: TestClient,
    admin_headers: dict[str, str],
    web: dict[str, Any],
    settings: Settings,
    db: Database,
) -> None:
    settings.webhook_backoff_seconds = 0.01
    settings.webhook_max_attempts = 3
    scheduler = Scheduler(settings, db)
    with receiver(fail_first=100) as hook:
        webhook = client.post(
            "/api/deployments/web/webhooks",
            json={"endpoint": hook.url, "webhookEventType": "DEPLOYMENT_START"},
            headers=admin_headers,
        ).json()
        client.post("/api/deployments/web/stop", headers=admin_headers)
        client.post("/api/deployments/web/start", headers=admin_headers)
        path = f"/api/webhooks/{webhook['webhookId']}/deliveries"

        def failed() -> bool:
            log = client.get(path, headers=admin_headers).json()
            return bool(log) and log[0]["status"] == "failed"

        _deliver_until(scheduler, failed)
        assert len(hook.requests) == 3
        body = json.loads(hook.requests[0].body)  # the default payload
        assert body["eventType"] == "DEPLOYMENT_START" and body["deploymentId"] == "web"
        assert body["data"]["version"] == "1" and body["deliveryId"]
    log = client.get(path, headers=admin_headers).json()
    assert log[0]["attempts"] == 3 and log[0]["lastError"].startswith("HTTP 500")


def test_a_deployment_that_becomes_active_fires_deployment_success(
    client: TestClient,
    admin_headers: dict[str, str],
    web: dict[str, Any],
    settings: Settings,
    db: Database,
) -> None:
    settings.webhook_backoff_seconds = 0.01
    scheduler = Scheduler(settings, db)
    with receiver() as hook:
        webhook = client.post(
            "/api/deployments/web/webhooks",
            json={"endpoint": hook.url, "webhookEventType": "DEPLOYMENT_SUCCESS"},
            headers=admin_headers,
        ).json()
        assert client.post("/api/deployments/web/stop", headers=admin_headers).status_code == 200
        assert client.post("/api/deployments/web/start", headers=admin_headers).status_code == 200
        assert wait_stable(client, admin_headers, "web", timeout=90)["status"] == "ACTIVE"
        _deliver_until(scheduler, lambda: bool(hook.requests))
        assert [r.status for r in hook.requests] == [204]  # the stop fired no success
        body = json.loads(hook.requests[0].body)
        assert body["eventType"] == "DEPLOYMENT_SUCCESS" and body["deploymentId"] == "web"
        assert body["data"]["version"] == "1"
        assert verify_signature(
            webhook["secret"],
            hook.requests[0].headers[SIGNATURE_HEADER.lower()],
            hook.requests[0].body,
        )
    log = client.get(
        f"/api/webhooks/{webhook['webhookId']}/deliveries", headers=admin_headers
    ).json()
    assert [(d["eventType"], d["status"]) for d in log] == [("DEPLOYMENT_SUCCESS", "delivered")]


def test_bad_webhooks_are_refused_and_nothing_is_stored(
    client: TestClient, admin_headers: dict[str, str], web: dict[str, Any]
) -> None:
    for body, field in (
        ({"endpoint": "ftp://example.org/x", "webhookEventType": "MODEL_TRAINED"}, "endpoint"),
        ({"endpoint": "not a url", "webhookEventType": "MODEL_TRAINED"}, "endpoint"),
        ({"endpoint": "http://127.0.0.1:9/x", "webhookEventType": "SOMETHING"}, "webhookEventType"),
        (
            {
                "endpoint": "http://127.0.0.1:9/x",
                "webhookEventType": "MODEL_TRAINED",
                "payloadTemplate": {"x": "{{nope}}"},
            },
            "payloadTemplate",
        ),
    ):
        answer = client.post("/api/deployments/web/webhooks", json=body, headers=admin_headers)
        assert answer.status_code == 400, answer.text
        assert answer.json()["field"] == field
    assert client.get("/api/deployments/web/webhooks", headers=admin_headers).json() == []
    assert (
        client.post(
            "/api/deployments/nope/webhooks",
            json={"endpoint": "http://127.0.0.1:9/x", "webhookEventType": "MODEL_TRAINED"},
            headers=admin_headers,
        ).status_code
        == 404
    )


def test_trainings_and_failed_promotions_are_events(
    client: TestClient,
    admin_headers: dict[str, str],
    web: dict[str, Any],
    train: Any,
) -> None:
    hooks = {
        event: client.post(
            "/api/deployments/web/webhooks",
            json={"endpoint": "http://127.0.0.1:9/x", "webhookEventType": event},
            headers=admin_headers,
        ).json()["webhookId"]
        for event in ("MODEL_TRAINED", "PROMOTION_FAILED")
    }
    client.patch("/api/deployments/web", json={"autoDeploy": True}, headers=admin_headers)
    model = train(projectId="shop")  # no evaluation data: its promotion fails

    def queued(event: str) -> list[dict[str, Any]]:
        path = f"/api/webhooks/{hooks[event]}/deliveries"
        return list(client.get(path, headers=admin_headers).json())

    assert [d["eventType"] for d in queued("MODEL_TRAINED")] == ["MODEL_TRAINED"]
    assert [d["status"] for d in queued("PROMOTION_FAILED")] == ["pending"]
    described = client.get("/api/deployments/web", headers=admin_headers).json()
    assert described["lastAutoDeploy"]["decision"] == "failed"
    assert described["error"].startswith(f"auto-deploy of model {model} failed")
