"""``/api/models``: the reference's model lifecycle, through HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recostack.settings import Settings

Headers = dict[str, str]
State = Callable[[], dict[str, Any]]


def _body(container: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": "Simple recommendations model",
        "blobContainerName": container,
        "usageRelativePath": "usage.csv",
        "supportThreshold": 3,
        **extra,
    }


def test_create_answers_201_with_location_and_the_model(
    client: TestClient, admin_headers: Headers, container: str
) -> None:
    response = client.post("/api/models", json=_body(container), headers=admin_headers)
    assert response.status_code == 201, response.text
    model = response.json()
    assert response.headers["location"] == f"http://testserver/api/models/{model['id']}"
    assert model["modelStatus"] == "Created"
    assert model["description"] == "Simple recommendations model"
    assert model["creationTime"].endswith("Z")
    assert model["parameters"]["supportThreshold"] == 3
    assert model["parameters"]["similarityFunction"] == "Jaccard"  # the reference's default
    assert model["statistics"] is None
    described = client.get(f"/api/models/{model['id']}", headers=admin_headers)
    assert described.status_code == 200
    assert described.json()["modelStatus"] == "Created"


def test_training_runs_to_completed_with_statistics(
    client: TestClient, admin_headers: Headers, container: str, run_jobs: Callable[[], int]
) -> None:
    body = _body(
        container,
        catalogFileRelativePath="catalog.csv",
        evaluationUsageRelativePath="eval.csv",
        enableColdItemPlacement=True,
    )
    model_id = client.post("/api/models", json=body, headers=admin_headers).json()["id"]
    assert run_jobs() == 1
    model = client.get(f"/api/models/{model_id}", headers=admin_headers).json()
    assert model["modelStatus"] == "Completed"
    assert model["modelStatusMessage"] == "Model Training Completed Successfully"
    stats = model["statistics"]
    assert stats["numberOfCatalogItems"] == 14
    assert stats["numberOfUsers"] == 24
    assert stats["usageEventsParsing"]["successfulLinesCount"] == 144
    assert stats["catalogParsing"]["errors"] == []
    precision = stats["evaluation"]["metrics"]["precisionMetrics"]
    assert [p["k"] for p in precision][:3] == [1, 2, 3]


def test_a_failed_training_reports_why(
    client: TestClient, admin_headers: Headers, container: str, run_jobs: Callable[[], int]
) -> None:
    model_id = client.post(
        "/api/models", json=_body(container, usageRelativePath="bad.csv"), headers=admin_headers
    ).json()["id"]
    run_jobs()
    model = client.get(f"/api/models/{model_id}", headers=admin_headers).json()
    assert model["modelStatus"] == "Failed"
    assert model["modelStatusMessage"]
    report = model["statistics"]["usageEventsParsing"]
    assert report["successfulLinesCount"] == 0
    assert report["errors"][0]["sample"]["file"] == "bad.csv"


def test_list_pages_and_counts(client: TestClient, admin_headers: Headers, container: str) -> None:
    ids = [
        client.post(
            "/api/models", json=_body(container, description=f"m{i}"), headers=admin_headers
        ).json()["id"]
        for i in range(4)
    ]
    everything = client.get("/api/models", headers=admin_headers)
    assert everything.status_code == 200
    assert [m["id"] for m in everything.json()] == ids
    assert everything.headers["x-total-count"] == "4"
    assert set(everything.json()[0]) == {"id", "description", "creationTime", "modelStatus"}
    page = client.get("/api/models", params={"offset": 1, "limit": 2}, headers=admin_headers)
    assert [m["id"] for m in page.json()] == ids[1:3]
    assert client.get("/api/models", params={"limit": 0}, headers=admin_headers).status_code == 400
    bad = client.get("/api/models", params={"offset": -1}, headers=admin_headers)
    assert bad.status_code == 400 and bad.json()["field"] == "offset"


def test_delete_removes_the_model_its_artifacts_and_the_default(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    trained_model: dict[str, Any],
    settings: Settings,
) -> None:
    model_id = trained_model["id"]
    assert (
        client.put(
            "/api/models/default", params={"modelId": model_id}, headers=admin_headers
        ).status_code
        == 200
    )
    assert (
        client.get(
            "/api/models/default/recommend", params={"itemId": "item1"}, headers=recommend_headers
        ).status_code
        == 200
    )
    assert (settings.models_dir / model_id).is_dir()

    deleted = client.delete(f"/api/models/{model_id}", headers=admin_headers)
    assert deleted.status_code == 202
    assert deleted.content == b""
    assert not (settings.models_dir / model_id).exists()
    assert client.get(f"/api/models/{model_id}", headers=admin_headers).status_code == 404
    assert (
        client.get(
            f"/api/models/{model_id}/recommend",
            params={"itemId": "item1"},
            headers=recommend_headers,
        ).status_code
        == 404
    )
    no_default = client.get("/api/models/default", headers=admin_headers)
    assert no_default.status_code == 404
    assert "no default model" in no_default.json()["message"]
    assert (
        client.get(
            "/api/models/default/recommend", params={"itemId": "item1"}, headers=recommend_headers
        ).status_code
        == 404
    )
    assert client.delete(f"/api/models/{model_id}", headers=admin_headers).status_code == 404


def test_the_default_model(
    client: TestClient, admin_headers: Headers, trained_model: dict[str, Any], container: str
) -> None:
    missing = client.get("/api/models/default", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    model_id = trained_model["id"]
    put = client.put("/api/models/default", params={"modelId": model_id}, headers=admin_headers)
    assert put.status_code == 200
    default = client.get("/api/models/default", headers=admin_headers).json()
    assert default["id"] == model_id
    assert default["modelStatusMessage"] == "Model Training Completed Successfully"
    assert default["parameters"]["usageRelativePath"] == "usage.csv"
    assert default["statistics"]["numberOfUsers"] == 24


def test_only_a_completed_model_can_be_the_default(
    client: TestClient, admin_headers: Headers, container: str, stored_state: State
) -> None:
    queued = client.post("/api/models", json=_body(container), headers=admin_headers).json()["id"]
    before = stored_state()
    refused = client.put("/api/models/default", params={"modelId": queued}, headers=admin_headers)
    assert refused.status_code == 409
    assert "Completed" in refused.json()["message"]
    assert stored_state() == before


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({}, 400, "modelId"),
        ({"modelId": "not-a-uuid"}, 404, "modelId"),
        ({"modelId": "00000000-0000-0000-0000-000000000000"}, 404, "modelId"),
    ],
)
def test_set_default_refuses_bad_ids(
    client: TestClient,
    admin_headers: Headers,
    stored_state: State,
    params: dict[str, str],
    status: int,
    field: str,
) -> None:
    before = stored_state()
    response = client.put("/api/models/default", params=params, headers=admin_headers)
    assert response.status_code == status
    assert response.json()["field"] == field
    assert stored_state() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"usageRelativePath": None}, "usageRelativePath"),
        ({"supportThreshold": 2}, "supportThreshold"),
        ({"supportThreshold": 51}, "supportThreshold"),
        ({"similarityFunction": "Cosine"}, "similarityFunction"),
        ({"cooccurrenceUnit": "Session"}, "cooccurrenceUnit"),
        ({"enableUserAffinity": "maybe"}, "enableUserAffinity"),
        ({"description": "x" * 257}, "description"),
        ({"usageRelativePath": "../../etc/passwd"}, "usageRelativePath"),
        ({"usageRelativePath": "a//usage.csv"}, "usageRelativePath"),
        ({"usageRelativePath": "x" * 256}, "usageRelativePath"),
        ({"blobContainerName": "../input"}, "blobContainerName"),
        ({"blobContainerName": ""}, "blobContainerName"),
        ({"unknownParameter": 1}, "unknownParameter"),
        ({"hyperparameterSearch": {"metric": "ndcg@0"}}, "hyperparameterSearch.metric"),
    ],
)
def test_bad_training_parameters_are_400_and_store_nothing(
    client: TestClient,
    admin_headers: Headers,
    container: str,
    stored_state: State,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {k: v for k, v in {**_body(container), **change}.items() if v is not None}
    before = stored_state()
    response = client.post("/api/models", json=body, headers=admin_headers)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["error"] == "invalid"
    assert error["field"] == field
    assert field in error["message"] or error["message"]
    assert stored_state() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"usageRelativePath": "missing.csv"}, "usageRelativePath"),
        ({"catalogFileRelativePath": "missing.csv"}, "catalogFileRelativePath"),
        ({"evaluationUsageRelativePath": "missing.csv"}, "evaluationUsageRelativePath"),
        ({"blobContainerName": "nowhere"}, "blobContainerName"),
        ({"projectId": "nowhere"}, "projectId"),
    ],
)
def test_missing_inputs_are_404_and_store_nothing(
    client: TestClient,
    admin_headers: Headers,
    container: str,
    stored_state: State,
    change: dict[str, Any],
    field: str,
) -> None:
    """Parameters the document allows, naming what is not stored: 404, not a validation 400."""
    before = stored_state()
    response = client.post(
        "/api/models", json={**_body(container), **change}, headers=admin_headers
    )
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"
    assert response.json()["field"] == field
    assert stored_state() == before


def test_a_metric_is_read_in_any_case(
    client: TestClient, admin_headers: Headers, container: str
) -> None:
    search = {"metric": " NDCG@10\t", "trials": 1}
    body = {**_body(container), "hyperparameterSearch": search}
    response = client.post("/api/models", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    assert response.json()["parameters"]["hyperparameterSearch"]["metric"] == "ndcg@10"


@pytest.mark.parametrize(
    "content", [b"", b"not json", b"[]", b'"text"', b'{"usageRelativePath": "usage.csv"']
)
def test_malformed_bodies_are_400(
    client: TestClient, admin_headers: Headers, stored_state: State, content: bytes
) -> None:
    before = stored_state()
    response = client.post(
        "/api/models",
        content=content,
        headers={**admin_headers, "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert set(response.json()) >= {"error", "message", "field"}
    assert stored_state() == before


@pytest.mark.parametrize("model_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_unknown_models_are_404(client: TestClient, admin_headers: Headers, model_id: str) -> None:
    for response in (
        client.get(f"/api/models/{model_id}", headers=admin_headers),
        client.delete(f"/api/models/{model_id}", headers=admin_headers),
    ):
        assert response.status_code == 404
        assert response.json() == {
            "error": "not_found",
            "message": f"model {model_id!r} does not exist",
            "field": "modelId",
        }
