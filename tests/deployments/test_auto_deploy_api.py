"""Auto-deploy through the API: models trained in a project promote into its deployments.

The fixture files give deterministic metrics: evaluated on ``eval.csv`` a
model has nDCG@10 ≈ 0.45; evaluated on its own training file it has 0 (a
user's training items are never recommended back).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import wait_stable
from recostack.services import auto_deploy as auto_deploy_module
from recostack.settings import Settings

Headers = dict[str, str]
GOOD = {"evaluationUsageRelativePath": "eval.csv"}
WORSE = {"evaluationUsageRelativePath": "usage.csv"}


def _describe(client: TestClient, headers: Headers, deployment_id: str = "web") -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/deployments/{deployment_id}", headers=headers).json()
    return body


def _served_model(client: TestClient, headers: Headers, deployment_id: str = "web") -> str:
    answer = client.post(
        f"/api/deployments/{deployment_id}/recommend", json={"itemId": "item1"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["modelId"])


def test_a_model_trained_in_the_project_is_promoted(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    project: str,
    deploy: Callable[..., dict[str, Any]],
    train: Callable[..., str],
) -> None:
    first = train(projectId=project, supportThreshold=3, **GOOD)
    deployed = deploy(first, autoDeploy=True)
    assert deployed["status"] == "ACTIVE" and deployed["lastAutoDeploy"] is None
    second = train(projectId=project, supportThreshold=6, **GOOD)  # nDCG@10 a little higher
    body = wait_stable(client, admin_headers, "web")
    assert body["modelVersion"] == second and body["modelIds"] == [second]
    last = body["lastAutoDeploy"]
    assert (last["modelVersion"], last["decision"]) == (second, "promoted")
    assert "ndcg@10" in last["reason"] and last["at"].endswith("Z")
    history = body["modelVersionHistory"]
    assert [e["modelVersion"] for e in history] == [first, second]
    assert history[-1]["source"] == "auto_deploy" and "source" not in history[0]
    deadline = time.monotonic() + 5
    while _served_model(client, recommend_headers) != second:
        assert time.monotonic() < deadline, "the ACTIVE deployment still serves the old model"
        time.sleep(0.05)
    # an auto-deployed version rolls back like any other
    rolled = client.post("/api/deployments/web/rollback", headers=admin_headers)
    assert rolled.status_code == 200, rolled.text
    assert wait_stable(client, admin_headers, "web")["modelVersion"] == first


def test_a_worse_model_is_not_promoted_and_the_reason_is_kept(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    project: str,
    deploy: Callable[..., dict[str, Any]],
    train: Callable[..., str],
) -> None:
    first = train(projectId=project, **GOOD)
    deploy(first, autoDeploy=True)
    worse = train(projectId=project, **WORSE)
    body = _describe(client, admin_headers)
    assert body["modelVersion"] == first and len(body["modelVersionHistory"]) == 1
    assert body["status"] == "ACTIVE"  # the served model keeps serving; the failure says why
    last = body["lastAutoDeploy"]
    assert (last["modelVersion"], last["decision"]) == (worse, "failed")
    assert last["reason"].startswith(
        "metrics regression: ndcg@10 0 is more than 1% below the served model's 0.4"
    )
    assert body["error"] == f"auto-deploy of model {worse} failed: {last['reason']}"
    assert _served_model(client, recommend_headers) == first
    # a model trained without evaluation data shows nothing: a failed promotion too
    unevaluated = train(projectId=project)
    last = _describe(client, admin_headers)["lastAutoDeploy"]
    assert (last["modelVersion"], last["decision"]) == (unevaluated, "failed")
    assert "the new model has no evaluation metric ndcg@10" in last["reason"]
    assert _describe(client, admin_headers)["modelVersion"] == first


def test_skip_metrics_check_promotes_a_worse_model(
    client: TestClient,
    admin_headers: Headers,
    project: str,
    deploy: Callable[..., dict[str, Any]],
    train: Callable[..., str],
) -> None:
    first = train(projectId=project, **GOOD)
    deploy(first, autoDeploy=True, skipMetricsCheck=True)
    worse = train(projectId=project, **WORSE)
    body = wait_stable(client, admin_headers, "web")
    assert body["modelVersion"] == worse
    assert body["lastAutoDeploy"]["decision"] == "promoted"
    assert "skipMetricsCheck" in body["lastAutoDeploy"]["reason"]


def test_what_auto_deploy_leaves_alone(
    client: TestClient,
    admin_headers: Headers,
    project: str,
    deploy: Callable[..., dict[str, Any]],
    train: Callable[..., str],
) -> None:
    first = train(projectId=project, **WORSE)
    deploy(first)  # autoDeploy is off by default
    deploy(first, "disabled", autoDeploy=True, projectStatus="disable")
    deploy(first, "auto", autoDeploy=True)
    without_project = train(**GOOD)
    assert (
        client.get(f"/api/models/{without_project}", headers=admin_headers).json()["projectId"]
        is None
    )
    in_project = train(projectId=project, **GOOD)
    web, disabled = _describe(client, admin_headers), _describe(client, admin_headers, "disabled")
    for body in (web, disabled):
        assert body["modelVersion"] == first and body["lastAutoDeploy"] is None
    # the model without a project changed nothing; the one in the project promoted
    body = _describe(client, admin_headers, "auto")
    assert body["modelVersion"] == in_project
    assert [e["modelVersion"] for e in body["modelVersionHistory"]] == [first, in_project]


def test_an_auto_deploy_failure_does_not_fail_the_training(
    client: TestClient,
    admin_headers: Headers,
    project: str,
    deploy: Callable[..., dict[str, Any]],
    train: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = train(projectId=project, **GOOD)
    deploy(first, autoDeploy=True)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(auto_deploy_module, "check_metrics", broken)
    second = train(projectId=project, **GOOD)
    model = client.get(f"/api/models/{second}", headers=admin_headers).json()
    assert model["modelStatus"] == "Completed"
    body = _describe(client, admin_headers)
    assert body["modelVersion"] == first
    assert body["lastAutoDeploy"]["reason"] == "auto-deploy failed: RuntimeError: boom"


def test_models_in_a_project_and_bad_project_ids(
    client: TestClient,
    admin_headers: Headers,
    project: str,
    container: str,
    stored_state: Callable[[], dict[str, Any]],
) -> None:
    body = {"blobContainerName": container, "usageRelativePath": "usage.csv"}
    created = client.post("/api/models", json={**body, "projectId": project}, headers=admin_headers)
    assert created.status_code == 201, created.text
    model = created.json()
    assert model["projectId"] == project and "projectId" not in model["parameters"]
    described = client.get(f"/api/models/{model['id']}", headers=admin_headers).json()
    assert described["projectId"] == project
    listed = client.get("/api/models", headers=admin_headers)
    assert listed.status_code == 200 and [m["id"] for m in listed.json()] == [model["id"]]
    # snake_case is accepted too, like every other field
    snake = client.post("/api/models", json={**body, "project_id": project}, headers=admin_headers)
    assert snake.status_code == 201 and snake.json()["projectId"] == project

    before = stored_state()
    unknown = client.post("/api/models", json={**body, "projectId": "nope"}, headers=admin_headers)
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "projectId" and "'nope'" in unknown.json()["message"]
    empty = client.post("/api/models", json={**body, "projectId": ""}, headers=admin_headers)
    assert empty.status_code == 400 and empty.json()["field"] == "projectId"
    assert stored_state() == before

    # deleting the (deployment-free) project keeps its models, in no project
    assert client.delete(f"/api/projects/{project}", headers=admin_headers).status_code == 204
    described = client.get(f"/api/models/{model['id']}", headers=admin_headers).json()
    assert described["projectId"] is None


def _hammer(
    client: TestClient, headers: Headers, stop: threading.Event, outcomes: Counter[str]
) -> None:
    while not stop.is_set():
        answer = client.post(
            "/api/deployments/web/recommend", json={"itemId": "item1"}, headers=headers
        )
        outcomes[answer.json()["modelId"] if answer.status_code == 200 else answer.text] += 1


def test_a_worker_process_promotes_into_an_active_deployment_without_dropping_requests(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    project: str,
    container: str,
    deploy: Callable[..., dict[str, Any]],
    train: Callable[..., str],
    settings: Settings,
    tmp_path: Path,
) -> None:
    first = train(projectId=project, supportThreshold=3, **GOOD)
    deploy(first, autoDeploy=True)
    body = {
        "blobContainerName": container,
        "usageRelativePath": "usage.csv",
        "catalogFileRelativePath": "catalog.csv",
        "supportThreshold": 6,
        "projectId": project,
        **GOOD,
    }
    created = client.post("/api/models", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    second = created.json()["id"]

    stop, outcomes = threading.Event(), Counter[str]()
    hammer = threading.Thread(target=_hammer, args=(client, recommend_headers, stop, outcomes))
    hammer.start()
    try:
        log = tmp_path / "worker.log"
        with log.open("wb") as out:
            finished = subprocess.run(
                [
                    str(Path(sys.executable).parent / "recostack"),
                    "worker",
                    "--once",
                    "--data-dir",
                    str(settings.data_dir),
                    "--database-url",
                    settings.effective_database_url,
                ],
                env={**os.environ, "RECOSTACK_LOG_LEVEL": "info"},
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
            )
        assert finished.returncode == 0, log.read_text()
        promoted_at = time.monotonic()
        while outcomes[second] == 0:
            assert time.monotonic() - promoted_at < 5, (outcomes, log.read_text())
            time.sleep(0.02)
        time.sleep(0.2)  # keep serving a little after the switch
    finally:
        stop.set()
        hammer.join(10)
    assert "promoted for deployment web" in log.read_text()
    assert set(outcomes) == {first, second}, outcomes  # every answer a 200, old model or new
    assert _describe(client, admin_headers)["lastAutoDeploy"]["decision"] == "promoted"
