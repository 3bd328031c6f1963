"""``hyperparameterSearch`` over HTTP: validated by POST /api/models, run by the worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

Headers = dict[str, str]


def body(container: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": "searched",
        "blobContainerName": container,
        "usageRelativePath": "usage.csv",
        "evaluationUsageRelativePath": "eval.csv",
        **extra,
    }


def test_the_worker_trains_the_best_trial_and_records_the_search(
    client: TestClient, admin_headers: Headers, container: str, run_jobs: Callable[[], int]
) -> None:
    search = {"algorithms": ["itemknn", "ease"], "metric": "precision@5", "trials": 3}
    created = client.post(
        "/api/models", json=body(container, hyperparameterSearch=search), headers=admin_headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["parameters"]["hyperparameterSearch"]["trials"] == 3
    assert run_jobs() == 1
    model = client.get(f"/api/models/{created.json()['id']}", headers=admin_headers).json()
    assert model["modelStatus"] == "Completed", model
    stats = model["statistics"]
    recorded = stats["hyperparameterSearch"]
    assert recorded["trialsRun"] == 3 and recorded["metric"] == "precision@5"
    assert recorded["validation"] == "chronological"
    assert [t["state"] for t in recorded["trials"]] == ["complete"] * 3
    assert stats["algorithm"] == recorded["trials"][recorded["bestTrial"]]["algorithm"]
    assert stats["evaluation"]["metrics"]["precisionMetrics"]


def test_a_bad_search_is_a_400_naming_the_field(
    client: TestClient, admin_headers: Headers, container: str
) -> None:
    answer = client.post(
        "/api/models",
        json=body(container, hyperparameterSearch={"metric": "ndcg@10", "trials": 0}),
        headers=admin_headers,
    )
    assert answer.status_code == 400
    assert "hyperparameterSearch" in answer.json()["field"]
    assert "trials" in answer.json()["field"]


def test_ease_trains_over_http(
    client: TestClient, admin_headers: Headers, container: str, run_jobs: Callable[[], int]
) -> None:
    created = client.post(
        "/api/models",
        json=body(container, algorithm="ease", easeLambda=50, maxNeighbors=5),
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert run_jobs() == 1
    model = client.get(f"/api/models/{created.json()['id']}", headers=admin_headers).json()
    assert model["modelStatus"] == "Completed", model
    assert model["statistics"]["easeItemsModelled"] == 12
    assert 0 < model["statistics"]["easeWeightShareKept"] < 1
    recs = client.get(
        f"/api/models/{created.json()['id']}/recommend?itemId=item1&recommendationCount=3",
        headers=admin_headers,
    )
    assert recs.status_code == 200 and len(recs.json()) == 3
