"""Prediction and response logs: linking, keyset pages newest first, retention."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recostack.serving.deployments import retention
from recostack.serving.prediction_logger import PredictionRecord
from recostack.store import serving_source
from recostack.store.engine import Database
from recostack.store.prediction_log_repository import (
    count_predictions,
    insert_predictions,
    purge_logs,
)


def _flush(client: TestClient) -> None:
    assert client.app.state.serving.prediction_logger.flush(10)  # type: ignore[attr-defined]


def test_responses_link_to_answers(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    deploy(trained_model["id"])
    answer = client.post(
        "/api/deployments/web/recommend",
        json={"userId": "u1", "itemId": "item1"},
        headers=recommend_headers,
    ).json()
    # at once, before the log is written: the answer is still known
    taken = client.post(
        "/api/deployments/web/responses",
        json={
            "requestId": answer["requestId"],
            "itemId": answer["items"][0]["itemId"],
            "takeUp": True,
        },
        headers=recommend_headers,
    )
    assert taken.status_code == 201, taken.text
    unknown = client.post(
        "/api/deployments/web/responses",
        json={"requestId": "nope", "takeUp": False},
        headers=recommend_headers,
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "requestId"
    client.post(
        "/api/deployments/web/responses",
        json={"requestId": answer["requestId"], "event": "Purchase", "reward": 2.5},
        headers=recommend_headers,
    )
    responses = client.get("/api/deployments/web/response-logs", headers=admin_headers).json()
    assert [(r["event"], r["reward"], r["takeUp"]) for r in responses] == [
        ("Purchase", 2.5, None),
        (None, None, True),
    ]
    assert {r["requestId"] for r in responses} == {answer["requestId"]}
    _flush(client)
    logged = client.get("/api/deployments/web/prediction-logs", headers=admin_headers).json()
    assert logged[0]["userId"] == "u1" and logged[0]["latencyMs"] > 0
    assert logged[0]["items"] == answer["items"]
    assert (
        client.get("/api/deployments/web/prediction-logs", headers=recommend_headers).status_code
        == 403
    )


def test_keyset_pages_newest_first(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    deploy(trained_model["id"])
    answers = [
        client.post(
            "/api/deployments/web/recommend",
            json={"itemId": f"item{n % 12}"},
            headers=recommend_headers,
        )
        for n in range(25)
    ]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers][:3]
    sent = [a.json()["requestId"] for a in answers]
    _flush(client)
    pages: list[list[dict[str, Any]]] = []
    params: dict[str, Any] = {"limit": 10}
    while True:
        page = client.get(
            "/api/deployments/web/prediction-logs", params=params, headers=admin_headers
        ).json()
        if not page:
            break
        pages.append(page)
        params = {
            "limit": 10,
            "last_log_request_id": page[-1]["requestId"],
            "last_log_timestamp": page[-1]["timestamp"],
        }
    assert [len(p) for p in pages] == [10, 10, 5]
    seen = [r["requestId"] for p in pages for r in p]
    assert sorted(seen) == sorted(sent)
    times = [r["timestamp"] for p in pages for r in p]
    assert times == sorted(times, reverse=True)
    by_id = client.get(
        "/api/deployments/web/prediction-logs",
        params={"limit": 100, "last_log_request_id": seen[9]},
        headers=admin_headers,
    ).json()
    assert [r["requestId"] for r in by_id] == seen[10:]


def test_retention_purges_old_records(
    client: TestClient,
    admin_headers: dict[str, str],
    db: Database,
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # only this test purges (the server's own once-a-minute purge would race it), one row a
    # table and transaction
    monkeypatch.setattr(retention, "EVERY_SECONDS", float("inf"))
    monkeypatch.setattr(serving_source, "PURGE_CHUNK", 1)
    deploy(trained_model["id"], logging={"enabled": True, "retention_days": 1})
    old = datetime.now(UTC) - timedelta(days=3)
    record = PredictionRecord("", "web", "1", trained_model["id"], None, "[]", "{}", old, 1.0)
    with db.engine.begin() as connection:
        insert_predictions(
            connection,
            [
                record._replace(request_id="old"),
                record._replace(request_id="older", created_at=old - timedelta(days=1)),
                record._replace(request_id="new", created_at=datetime.now(UTC)),
            ],
        )
    serving = client.app.state.serving  # type: ignore[attr-defined]
    serving.live.reload()
    # a purge deletes at most its limit a transaction
    with db.engine.begin() as connection:
        assert purge_logs(connection, "web", datetime.now(UTC) - timedelta(days=1), 1) == 1
        assert count_predictions(connection, "web") == 2
    assert serving.retention.purge_expired() == 1
    with db.engine.connect() as connection:
        assert count_predictions(connection, "web") == 1
