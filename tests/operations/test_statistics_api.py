"""Statistics over time through HTTP: rollups of answers, failures, responses and users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from operations.conftest import recommend


def _stats(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/api/deployments/web/statistics", params=params, headers=headers)


def test_requests_errors_take_ups_and_users_per_interval(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    web: dict[str, Any],
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    answers = [
        recommend(client, recommend_headers, userId=f"user{i % 3}", itemId="item1").json()
        for i in range(6)
    ]
    assert recommend(client, recommend_headers, recommendationCount=500).status_code == 400
    assert recommend(client, recommend_headers, version="9").status_code == 404
    for answer in answers[:2]:
        taken = client.post(
            "/api/deployments/web/responses",
            json={"requestId": answer["requestId"], "takeUp": True},
            headers=recommend_headers,
        )
        assert taken.status_code == 201, taken.text
    client.post(
        "/api/deployments/web/responses",
        json={"requestId": answers[2]["requestId"], "takeUp": False},
        headers=recommend_headers,
    )
    client.app.state.serving.prediction_logger.flush()
    end = datetime.now(UTC) + timedelta(minutes=1)
    answer = _stats(client, admin_headers, startDate=start.isoformat(), endDate=end.isoformat())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["interval"] == "minute" and body["deploymentId"] == "web"
    summary = body["summary"]
    assert summary["requests"] == 8
    assert (summary["errors"], summary["errors4xx"], summary["errors5xx"]) == (2, 2, 0)
    assert summary["errorRate"] == 2 / 8
    assert (summary["responses"], summary["takeUps"]) == (3, 2)
    assert summary["takeUpRate"] == 2 / 6
    assert summary["distinctUsers"] == 3
    assert 0 < summary["latencyP50Ms"] <= summary["latencyP95Ms"] <= summary["latencyP99Ms"]
    assert sum(i["requests"] for i in body["intervals"]) == 8
    assert len(body["dateLabels"]) == len(body["requestSeries"]) == len(body["intervals"])
    statuses = body["httpStatusSeries"]
    assert sum(s["2xx"] for s in statuses) == 6 and sum(s["4xx"] for s in statuses) == 2
    # one version only, and the same figures through the other granularities
    one = _stats(client, admin_headers, startDate=start.isoformat(), version="1").json()
    assert one["summary"]["requests"] == 8
    hourly = _stats(
        client, admin_headers, startDate=start.isoformat(), endDate=end.isoformat(), interval="hour"
    ).json()
    assert hourly["summary"]["requests"] == 8 and hourly["summary"]["distinctUsers"] == 3


def test_the_interval_follows_the_range(
    client: TestClient, admin_headers: dict[str, str], web: dict[str, Any]
) -> None:
    end = datetime(2026, 1, 8, tzinfo=UTC)
    week = _stats(
        client,
        admin_headers,
        startDate=(end - timedelta(days=7)).isoformat(),
        endDate=end.isoformat(),
    ).json()
    assert week["interval"] == "hour" and len(week["intervals"]) == 168
    assert week["summary"]["requests"] == 0 and week["summary"]["latencyP99Ms"] is None
    month = _stats(
        client, admin_headers, startDate="2026-01-01T00:00:00Z", endDate="2026-02-01T00:00:00Z"
    ).json()
    assert month["interval"] == "day" and len(month["intervals"]) == 31


def test_unusable_ranges_are_refused(
    client: TestClient, admin_headers: dict[str, str], web: dict[str, Any]
) -> None:
    backwards = _stats(
        client, admin_headers, startDate="2026-01-02T00:00:00Z", endDate="2026-01-01T00:00:00Z"
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "endDate"
    too_many = _stats(
        client,
        admin_headers,
        startDate="2026-01-01T00:00:00Z",
        endDate="2026-01-08T00:00:00Z",
        interval="minute",
    )
    assert too_many.status_code == 422 and too_many.json()["field"] == "interval"
    wrong = _stats(client, admin_headers, interval="week")
    assert wrong.status_code == 400 and wrong.json()["field"] == "interval"
    missing = client.get("/api/deployments/nope/statistics", headers=admin_headers)
    assert missing.status_code == 404
