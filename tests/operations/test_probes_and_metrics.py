"""``/healthz``, ``/readyz`` and ``/metrics`` through HTTP: every request is counted."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from operations.conftest import recommend
from operations.prometheus_text import request_count, samples
from recostack.store.migrate import MIGRATIONS_DIR, head_revision


def test_healthz_answers_without_a_key(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def _previous_revision() -> str:
    """The revision before the migrations' head."""
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    head = scripts.get_revision(scripts.get_current_head())
    assert head is not None and isinstance(head.down_revision, str)
    return head.down_revision


def _set_revision(client: TestClient, revision: str) -> None:
    with client.app.state.db.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(
            sqlalchemy.text("UPDATE alembic_version SET version_num = :r"), {"r": revision}
        )


def test_readyz_names_what_is_not_ready_then_is_ready(
    client: TestClient, admin_headers: dict[str, str], trained_model: dict[str, Any]
) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["defaultModel"]["detail"] == "no default model is set"
    # a schema behind the migrations' head: not ready until it is upgraded
    head = head_revision()
    assert head is not None
    _set_revision(client, _previous_revision())
    behind = client.get("/readyz")
    assert behind.status_code == 503, behind.text
    body = behind.json()
    assert body["status"] == "not ready" and body["notReady"] == ["schema"]
    assert "recostack db upgrade" in body["checks"]["schema"]["detail"]
    assert head in body["checks"]["schema"]["detail"]
    _set_revision(client, head)
    assert client.get("/readyz").status_code == 200
    # a default model not loaded in this process: not ready while it loads in the background
    answer = client.put(
        "/api/models/default", params={"modelId": trained_model["id"]}, headers=admin_headers
    )
    assert answer.status_code == 200, answer.text
    client.app.state.serving.models.cache.invalidate(trained_model["id"])  # type: ignore[attr-defined]
    loading = client.get("/readyz")
    assert loading.status_code == 503, loading.text
    assert loading.json()["notReady"] == ["defaultModel"]
    assert "loading" in loading.json()["checks"]["defaultModel"]["detail"]
    for _ in range(500):
        answer = client.get("/readyz")
        if answer.status_code == 200:
            break
        time.sleep(0.02)
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
        return request_count(text, route, method, status) - request_count(
            before, route, method, status
        )

    assert sent(model_route, "GET", 200) == 3
    assert sent(deployment_route, "POST", 200) == 4
    assert sent(deployment_route, "POST", 400) == 1
    assert sent(deployment_route, "POST", 404) == 1
    assert sent("unmatched", "GET", 404) == 1
    assert sent("/metrics", "GET", 200) == 1  # the first scrape, counted by the second
    latency = samples(text, "recostack_http_request_duration_seconds_count")
    assert latency[f'{{method="POST",route="{deployment_route}"}}'] >= 6
    # per deployment and version: answers counted once written, errors as they happen
    client.app.state.serving.prediction_logger.flush()
    text = client.get("/metrics").text
    answers = samples(text, "recostack_deployment_recommendations_total")
    assert answers['{deployment="web",version="1"}'] >= 4
    errors = samples(text, "recostack_deployment_errors_total")
    assert errors['{deployment="web",status_class="4xx",version="1"}'] >= 1
    assert '{deployment="nope"' not in str(errors)  # an unknown deployment is no label
    jobs = samples(text, "recostack_jobs")
    assert jobs['{kind="training",status="succeeded"}'] >= 1
    assert samples(text, "recostack_model_cache_bytes")[""] > 0
