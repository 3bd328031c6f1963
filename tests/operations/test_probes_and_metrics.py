"""``/healthz``, ``/readyz`` and ``/metrics`` through HTTP: every request is counted."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from operations.conftest import recommend


def _samples(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of one metric in the Prometheus text format."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(\{{.*\}})? ([0-9.e+-]+)", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def _count(text: str, route: str, method: str, status: int) -> float:
    labels = f'{{method="{method}",route="{route}",status="{status}"}}'
    return _samples(text, "recostack_http_requests_total").get(labels, 0.0)


def test_healthz_answers_without_a_key(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_readyz_names_what_is_not_ready_then_is_ready(
    client: TestClient, admin_headers: dict[str, str], trained_model: dict[str, Any]
) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["defaultModel"]["detail"] == "no default model is set"
    client.put(
        "/api/models/default", params={"modelId": trained_model["id"]}, headers=admin_headers
    )
    first = client.get("/readyz")
    if first.status_code == 503:  # the default model loads in the background
        assert first.json()["notReady"] == ["defaultModel"]
        assert "loading" in first.json()["checks"]["defaultModel"]["detail"]
    for _ in range(200):
        answer = client.get("/readyz")
        if answer.status_code == 200:
            break
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready" and body["notReady"] == []
    assert set(body["checks"]) == {"database", "schema", "defaultModel", "deployments"}


def test_every_request_is_counted_by_route_template_method_and_status(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    web: dict[str, Any],
    trained_model: dict[str, Any],
) -> None:
    before = client.get("/metrics").text
    model_route = "/api/models/{modelId}/recommend"
    deployment_route = "/api/deployments/{deployment_id}/recommend"
    for item in ("item1", "item2", "item3"):
        answer = client.get(
            f"/api/models/{trained_model['id']}/recommend",
            params={"itemId": item},
            headers=recommend_headers,
        )
        assert answer.status_code == 200
    for _ in range(4):
        assert recommend(client, recommend_headers, userId="user1").status_code == 200
    assert recommend(client, recommend_headers, recommendationCount=0).status_code == 400
    assert recommend(client, recommend_headers, "nope", userId="user1").status_code == 404
    assert client.get("/no/such/path").status_code == 404
    after = client.get("/metrics")
    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text

    def sent(route: str, method: str, status: int) -> float:
        return _count(text, route, method, status) - _count(before, route, method, status)

    assert sent(model_route, "GET", 200) == 3
    assert sent(deployment_route, "POST", 200) == 4
    assert sent(deployment_route, "POST", 400) == 1
    assert sent(deployment_route, "POST", 404) == 1
    assert sent("unmatched", "GET", 404) == 1
    assert sent("/metrics", "GET", 200) == 1  # the first scrape, counted by the second
    latency = _samples(text, "recostack_http_request_duration_seconds_count")
    assert latency[f'{{method="POST",route="{deployment_route}"}}'] >= 6
    # per deployment and version: answers counted once written, errors as they happen
    client.app.state.serving.prediction_logger.flush()
    text = client.get("/metrics").text
    answers = _samples(text, "recostack_deployment_recommendations_total")
    assert answers['{deployment="web",version="1"}'] >= 4
    errors = _samples(text, "recostack_deployment_errors_total")
    assert errors['{deployment="web",status_class="4xx",version="1"}'] >= 1
    assert '{deployment="nope"' not in str(errors)  # an unknown deployment is no label
    jobs = _samples(text, "recostack_jobs")
    assert jobs['{kind="training",status="succeeded"}'] >= 1
    assert _samples(text, "recostack_model_cache_bytes")[""] > 0
