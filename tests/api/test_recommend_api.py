"""The recommend endpoints, by model id and through the default model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Headers = dict[str, str]
State = Callable[[], dict[str, Any]]


@pytest.fixture
def base(
    client: TestClient,
    admin_headers: Headers,
    trained_model: dict[str, Any],
) -> str:
    """``/api/models/<id>`` and ``/api/models/default`` (set to the same model)."""
    client.put(
        "/api/models/default", params={"modelId": trained_model["id"]}, headers=admin_headers
    )
    return f"/api/models/{trained_model['id']}"


@pytest.fixture(params=["by-id", "default"])
def model_url(request: pytest.FixtureRequest, base: str) -> str:
    return base if request.param == "by-id" else "/api/models/default"


def test_item_to_item(client: TestClient, recommend_headers: Headers, model_url: str) -> None:
    response = client.get(
        f"{model_url}/recommend", params={"itemId": "item1"}, headers=recommend_headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    recs = response.json()
    assert len(recs) == 10
    assert all(set(r) == {"recommendedItemId", "score"} for r in recs)
    assert "item1" not in {r["recommendedItemId"] for r in recs}
    scores = [r["score"] for r in recs]
    assert scores == sorted(scores, reverse=True)
    three = client.get(
        f"{model_url}/recommend",
        params={"itemId": "item1", "recommendationCount": 3},
        headers=recommend_headers,
    ).json()
    assert three == recs[:3]


def test_an_unknown_item_gets_popular_items_or_nothing(
    client: TestClient, recommend_headers: Headers, model_url: str
) -> None:
    response = client.get(
        f"{model_url}/recommend", params={"itemId": "no-such-item"}, headers=recommend_headers
    )
    assert response.status_code == 200
    assert isinstance(response.json(), list)  # backfilled with popular items (enableBackfilling)


def test_personalized(client: TestClient, recommend_headers: Headers, model_url: str) -> None:
    events = [
        {"itemId": "item2", "eventType": "Click", "timestamp": "2024-03-01T23:59:59"},
        {"itemId": "item3", "eventType": "Purchase"},
        {"itemId": "item4", "weight": 2.3},
        {"itemId": "item5"},
    ]
    response = client.post(f"{model_url}/recommend", json=events, headers=recommend_headers)
    assert response.status_code == 200, response.text
    recs = response.json()
    assert 0 < len(recs) <= 10
    assert not {"item2", "item3", "item4", "item5"} & {r["recommendedItemId"] for r in recs}
    with_user = client.post(
        f"{model_url}/recommend",
        params={"userId": "user1", "recommendationCount": 2},
        json=[{"itemId": "item2"}],
        headers=recommend_headers,
    )
    assert with_user.status_code == 200 and len(with_user.json()) <= 2
    only_user = client.post(
        f"{model_url}/recommend", params={"userId": "user1"}, headers=recommend_headers
    )
    assert only_user.status_code == 200
    empty = client.post(f"{model_url}/recommend", json=[], headers=recommend_headers)
    assert empty.status_code == 200 and isinstance(empty.json(), list)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "itemId"),
        ({"itemId": ""}, "itemId"),
        ({"itemId": "item1", "recommendationCount": 0}, "recommendationCount"),
        ({"itemId": "item1", "recommendationCount": 101}, "recommendationCount"),
        ({"itemId": "item1", "recommendationCount": "ten"}, "recommendationCount"),
    ],
)
def test_bad_item_requests_are_400(
    client: TestClient,
    recommend_headers: Headers,
    model_url: str,
    params: dict[str, Any],
    field: str,
) -> None:
    response = client.get(f"{model_url}/recommend", params=params, headers=recommend_headers)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["message"].startswith(field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"eventType": "Click"}], "[0].itemId"),
        ([{"itemId": "item1"}, {"itemId": "item2", "eventType": "Bought"}], "[1].eventType"),
        ([{"itemId": "item1", "weight": "heavy"}], "[0].weight"),
        ([{"itemId": "item1", "timestamp": "yesterday"}], "[0].timestamp"),
        ([{"itemId": "item1", "colour": "red"}], "[0].colour"),
        ({"itemId": "item1"}, "body"),
        ("item1", "body"),
    ],
)
def test_malformed_usage_events_are_400(
    client: TestClient,
    recommend_headers: Headers,
    model_url: str,
    body: Any,
    field: str,
    stored_state: State,
) -> None:
    before = stored_state()
    response = client.post(f"{model_url}/recommend", json=body, headers=recommend_headers)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert stored_state() == before


def test_count_is_checked_on_post_too(
    client: TestClient, recommend_headers: Headers, model_url: str
) -> None:
    response = client.post(
        f"{model_url}/recommend",
        params={"recommendationCount": 500},
        json=[],
        headers=recommend_headers,
    )
    assert response.status_code == 400
    assert response.json()["field"] == "recommendationCount"


def test_models_that_cannot_recommend(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    container: str,
    run_jobs: Callable[[], int],
) -> None:
    created = client.post(
        "/api/models",
        json={"blobContainerName": container, "usageRelativePath": "usage.csv"},
        headers=admin_headers,
    ).json()
    not_yet = client.get(
        f"/api/models/{created['id']}/recommend",
        params={"itemId": "item1"},
        headers=recommend_headers,
    )
    assert not_yet.status_code == 409
    assert "Created" in not_yet.json()["message"] and "Completed" in not_yet.json()["message"]

    failed = client.post(
        "/api/models",
        json={"blobContainerName": container, "usageRelativePath": "bad.csv"},
        headers=admin_headers,
    ).json()
    run_jobs()
    response = client.post(
        f"/api/models/{failed['id']}/recommend", json=[], headers=recommend_headers
    )
    assert response.status_code == 409
    assert "Failed" in response.json()["message"]

    unknown = client.get(
        "/api/models/00000000-0000-0000-0000-000000000000/recommend",
        params={"itemId": "item1"},
        headers=recommend_headers,
    )
    assert unknown.status_code == 404


def test_no_default_model_is_a_clear_404(client: TestClient, recommend_headers: Headers) -> None:
    for response in (
        client.get(
            "/api/models/default/recommend", params={"itemId": "item1"}, headers=recommend_headers
        ),
        client.post("/api/models/default/recommend", json=[], headers=recommend_headers),
    ):
        assert response.status_code == 404
        assert "no default model is set" in response.json()["message"]


def test_unusual_but_valid_requests_answer_as_plain_ones(
    client: TestClient, recommend_headers: Headers, base: str
) -> None:
    """A zero-padded count or an unknown extra parameter change nothing."""
    url = f"{base}/recommend"
    plain = client.get(
        url, params={"itemId": "item1", "recommendationCount": "4"}, headers=recommend_headers
    )
    unusual = client.get(
        url, params={"itemId": "item1", "recommendationCount": "0004"}, headers=recommend_headers
    )
    extra = client.get(
        url,
        params={"itemId": "item1", "recommendationCount": "4", "x": "1"},
        headers=recommend_headers,
    )
    assert plain.status_code == unusual.status_code == extra.status_code == 200
    assert plain.json() == unusual.json() == extra.json()
    events = [{"itemId": "item2", "eventType": "Purchase"}]
    posts = [
        client.post(
            url, params={"recommendationCount": count}, json=events, headers=recommend_headers
        )
        for count in ("4", "0004")
    ]
    assert posts[0].status_code == posts[1].status_code == 200
    assert posts[0].json() == posts[1].json()
    untyped = client.post(url, content=b"[]", headers={**recommend_headers, "content-type": ""})
    assert untyped.status_code == 400  # FastAPI's answer: the body must be JSON
