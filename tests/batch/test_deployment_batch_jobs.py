"""Batch work through a deployment: an inference job's rules reach the deployment's pipeline
as a recommend request's would, and a batch prediction's metadata names the answering model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from batch.conftest import describe, read_lines
from recostack.settings import Settings

BOOKS = {f"item{i}" for i in range(14) if i % 2}  # category books
RED = {f"item{i}" for i in range(14) if i % 3}  # colour red
USERS = [f"user{u}" for u in range(6)]


def _items(answer: dict[str, Any]) -> list[str]:
    return [item["itemId"] for item in answer["items"]]


def test_a_deployment_job_applies_its_filters_and_filter_arn_as_a_request_would(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    deploy: Callable[..., dict[str, Any]],
    write_input: Callable[[str, list[Any]], str],
    create_job: Callable[..., dict[str, Any]],
    run_jobs: Callable[[], int],
) -> None:
    deploy(trained_model["id"])
    saved = client.put(
        "/api/scenarios/profile_to_items/reds",
        json={"scenario_type": "case", "case": {"filters": ["colour:eq:red"]}},
        headers=admin_headers,
    )
    assert saved.status_code == 201, saved.text
    rules = {"filters": ["category:eq:books"]}

    def recommend(user: str, **fields: Any) -> list[str]:
        body = {"userId": user, "recommendationCount": 4, **fields}
        answer = client.post("/api/deployments/web/recommend", json=body, headers=admin_headers)
        assert answer.status_code == 200, answer.text
        return _items(answer.json())

    plain = [recommend(u) for u in USERS]
    assert any(set(items) - (BOOKS & RED) for items in plain)  # the rules have work to do
    expected = [recommend(u, **rules, scenario="reds") for u in USERS]
    job = create_job(
        jobName="ruled",
        deploymentId="web",
        numResults=4,
        filterArn="reds",
        **rules,
        jobInput={"path": write_input("users.jsonl", [{"userId": u} for u in USERS])},
        jobOutput={"path": "output/ruled.jsonl"},
    )
    assert job["filterArn"] == "reds" and job["rules"]["filters"] == rules["filters"]
    run_jobs()
    done = describe(client, admin_headers, job["batchInferenceJobArn"])
    assert done["status"] == "ACTIVE", done
    assert done["progress"]["linesFailed"] == 0
    out = read_lines(settings.files_dir / "output" / "ruled.jsonl")
    answered = [line["output"]["recommendedItems"] for line in out]
    assert all(set(items) <= BOOKS & RED for items in answered), answered
    assert any(answered)
    assert answered == expected


def test_a_batch_prediction_s_metadata_names_the_model_that_answered(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    deploy: Callable[..., dict[str, Any]],
    write_input: Callable[[str, list[Any]], str],
    run_jobs: Callable[[], int],
) -> None:
    deploy(trained_model["id"])
    created = client.post(
        "/api/deployments/web/batch-predictions",
        json={
            "name": "meta",
            "globalPredictionArgs": {"recommendationCount": 2},
            "batchPredictionArgs": {
                "inputLocation": write_input("two.jsonl", [{"userId": "user1"}, "not json"])
            },
            "outputFormat": "JSON",
            "outputLocation": "out/meta.jsonl",
            "outputIncludesMetadata": True,
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    run_jobs()
    good, bad = read_lines(settings.files_dir / "out" / "meta.jsonl")
    assert good["error"] is None and good["modelVersion"] == trained_model["id"]
    assert good["deploymentId"] == "web" and good["batchPredictionVersion"]
    assert good["predictionStartTime"]
    assert bad["error"] and bad["modelVersion"] is None
