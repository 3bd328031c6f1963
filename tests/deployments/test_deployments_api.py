"""Deployments: create, describe, list, update, lifecycle, promotion and rollback, over HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from conftest import wait_stable
from recostack.settings import Settings

REFERENCE_FIELDS = {
    "deploymentId",
    "name",
    "status",
    "description",
    "deployedAt",
    "createdAt",
    "projectId",
    "modelId",
    "modelVersion",
    "algorithm",
    "autoDeploy",
    "skipMetricsCheck",
    "pendingModelVersion",
    "error",
    "refreshSchedules",
    "defaultPredictionArguments",
}


def _recommend(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post(
        "/api/deployments/web/recommend", json=body or {"itemId": "item1"}, headers=headers
    )


def test_create_describe_and_the_immutable_pair(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
    project: str,
) -> None:
    described = deploy(
        trained_model["id"],
        description="web shop",
        project_status="production",
        auto_deploy=True,
        default_prediction_arguments={"recommendationCount": 3},
    )
    assert set(described) >= REFERENCE_FIELDS
    assert described["status"] == "ACTIVE" and described["deployedAt"] is not None
    assert described["modelId"] == described["modelVersion"] == trained_model["id"]
    assert (described["algorithm"], described["projectStatus"]) == ("sar", "production")
    assert described["autoDeploy"] is True and described["error"] is None
    assert described["defaultPredictionArguments"] == {"recommendationCount": 3}
    again = client.post(
        f"/api/projects/{project}/deployments",
        json={"deploymentId": "web", "version": "1", "modelId": trained_model["id"]},
        headers=admin_headers,
    )
    assert again.status_code == 409 and again.json()["field"] == "version"
    second = client.post(
        f"/api/projects/{project}/deployments",
        json={"deploymentId": "web", "version": "2", "modelId": trained_model["id"]},
        headers=admin_headers,
    )
    assert second.status_code == 201
    wait_stable(client, admin_headers, "web")
    listed = client.get(f"/api/projects/{project}/deployments", headers=admin_headers).json()
    assert [(d["deploymentId"], d["version"]) for d in listed] == [("web", "1"), ("web", "2")]
    assert client.get("/api/deployments/web", headers=admin_headers).json()["version"] == "2"
    one = client.get("/api/deployments/web?version=1", headers=admin_headers).json()
    assert one["description"] == "web shop"
    answer = _recommend(client, recommend_headers)
    assert answer.status_code == 200 and answer.json()["version"] == "2"
    pinned = _recommend(client, recommend_headers, itemId="item1", version="1")
    assert pinned.json()["version"] == "1" and len(pinned.json()["items"]) == 3
    patched = client.patch(
        "/api/deployments/web?version=1",
        json={"description": "changed", "autoDeploy": False, "skipMetricsCheck": True},
        headers=admin_headers,
    ).json()
    assert (patched["description"], patched["autoDeploy"], patched["skipMetricsCheck"]) == (
        "changed",
        False,
        True,
    )


def test_refused_models(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    container: str,
    project: str,
) -> None:
    url = f"/api/projects/{project}/deployments"
    body = {"deploymentId": "web", "version": "1"}
    assert client.post(url, json=body, headers=admin_headers).status_code == 400
    unknown = client.post(
        url, json={**body, "modelId": "00000000-0000-0000-0000-000000000000"}, headers=admin_headers
    )
    assert unknown.status_code == 404
    queued = client.post(
        "/api/models",
        json={"blobContainerName": container, "usageRelativePath": "usage.csv"},
        headers=admin_headers,
    ).json()["id"]
    not_done = client.post(url, json={**body, "modelId": queued}, headers=admin_headers)
    assert not_done.status_code == 409 and "Completed" in not_done.json()["message"]
    bad_selector = client.post(
        url,
        json={
            **body,
            "modelId": trained_model["id"],
            "modelSelector": {"lookup_field": "segment", "selector": {"gold": [3]}},
        },
        headers=admin_headers,
    )
    # well-formed, but the deployment has one model: unusable (422), nothing stored
    assert bad_selector.status_code == 422 and bad_selector.json()["field"] == "model_selector"
    no_project = client.post(
        "/api/projects/nope/deployments",
        json={**body, "modelId": trained_model["id"]},
        headers=admin_headers,
    )
    assert no_project.status_code == 404


def test_stop_start_disable_and_delete(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    deploy(trained_model["id"])
    stopped = client.post("/api/deployments/web/stop", headers=admin_headers).json()
    assert stopped["status"] == "STOPPED"
    refused = _recommend(client, recommend_headers)
    assert refused.status_code == 409 and "STOPPED" in refused.json()["message"]
    assert "start" in refused.json()["message"]
    client.post("/api/deployments/web/start", headers=admin_headers)
    assert wait_stable(client, admin_headers, "web")["status"] == "ACTIVE"
    again = client.post("/api/deployments/web/start", headers=admin_headers).json()
    assert again["status"] == "ACTIVE"  # idempotent
    assert _recommend(client, recommend_headers).status_code == 200
    deploy(trained_model["id"], deployment_id="off", project_status="disable")
    off = client.post(
        "/api/deployments/off/recommend", json={"itemId": "item1"}, headers=recommend_headers
    )
    assert off.status_code == 503 and "disabled" in off.json()["message"]
    assert client.delete("/api/deployments/web", headers=admin_headers).status_code == 204
    assert _recommend(client, recommend_headers).status_code == 404
    assert client.get("/api/deployments/web", headers=admin_headers).status_code == 404


def test_a_model_that_cannot_load_fails_the_deployment(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    settings: Settings,
    train: Callable[..., str],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    model_id = train()
    shutil.rmtree(settings.models_dir / model_id)
    failed = deploy(model_id)
    assert failed["status"] == "FAILED" and "cannot be loaded" in failed["error"]
    answer = _recommend(client, recommend_headers)
    assert answer.status_code == 503 and "FAILED" in answer.json()["message"]


def test_promotion_and_rollback_keep_a_history(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    train: Callable[..., str],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    first = trained_model["id"]
    second = train(supportThreshold=4)
    deploy(first)
    switching = client.post(
        "/api/deployments/web/set-model-version",
        json={"modelVersion": second},
        headers=admin_headers,
    )
    assert switching.status_code == 200, switching.text
    promoted = wait_stable(client, admin_headers, "web")
    assert promoted["modelVersion"] == second and promoted["status"] == "ACTIVE"
    assert [h["modelVersion"] for h in promoted["modelVersionHistory"]] == [first, second]
    assert _recommend(client, recommend_headers).json()["modelId"] == second
    client.post("/api/deployments/web/rollback", headers=admin_headers)
    rolled = wait_stable(client, admin_headers, "web")
    assert rolled["modelVersion"] == first
    assert _recommend(client, recommend_headers).json()["modelId"] == first
    history = rolled["modelVersionHistory"]
    assert [h["modelVersion"] for h in history] == [first, second]
    assert history[1]["rolledBackAt"] is not None
    nothing_left = client.post("/api/deployments/web/rollback", headers=admin_headers)
    assert nothing_left.status_code == 409
    missing = client.post(
        "/api/deployments/web/set-model-version",
        json={"modelVersion": "00000000-0000-0000-0000-000000000000"},
        headers=admin_headers,
    )
    assert missing.status_code == 404
