"""The alert conditions no other test fires, each made true for real and evaluated by the
scheduler: a take-up rate drop, a model metric drop, failed trainings, a slow p99."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, select, update

from conftest import wait_stable
from operations.conftest import recommend
from recostack.jobs.scheduler import Scheduler
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.statistics_tables import DeploymentStatisticsRow

Headers = dict[str, str]
#: evaluated on eval.csv, a model has an nDCG@10 to compare (tests/deployments/test_auto_deploy_api)
EVALUATED = {"evaluationUsageRelativePath": "eval.csv"}


def _scheduler(settings: Settings, db: Database) -> Scheduler:
    settings.alert_evaluation_seconds = 0.001  # every tick evaluates every alert
    return Scheduler(settings, db)


def _flush(client: TestClient) -> None:
    serving = client.app.state.serving  # type: ignore[attr-defined]
    serving.prediction_logger.flush()
    serving.statistics.flush()


def _create_alert(
    client: TestClient, headers: Headers, name: str, condition: dict[str, Any]
) -> str:
    created = client.post(
        "/api/deployments/web/alerts",
        json={"alertName": name, "conditionConfig": condition, "actionConfig": {"type": "LOG"}},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "OK"
    return str(created.json()["alertId"])


def _alert(client: TestClient, headers: Headers, alert_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/alerts/{alert_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _history(alert: dict[str, Any]) -> list[str]:
    return [event["state"] for event in alert["history"]]


def _answer(client: TestClient, headers: Headers, count: int, take_ups: int) -> None:
    """``count`` answered requests, ``take_ups`` of them taken up, all in the statistics."""
    answers = [recommend(client, headers, userId=f"user{u}") for u in range(count)]
    assert [a.status_code for a in answers] == [200] * count
    for answer in answers[:take_ups]:
        taken = client.post(
            "/api/deployments/web/responses",
            json={"requestId": answer.json()["requestId"], "takeUp": True},
            headers=headers,
        )
        assert taken.status_code == 201, taken.text
    _flush(client)


def _move_statistics_back(db: Database, deployment_id: str, minutes: int) -> None:
    """Move the deployment's minute rollups ``minutes`` into the past, as if its requests had
    come then (a request is counted in the minute of the clock; a test cannot wait for it)."""
    table: Table = DeploymentStatisticsRow.__table__  # type: ignore[assignment]
    rows = (table.c.deployment_id == deployment_id) & (table.c.granularity == "minute")
    with db.engine.begin() as connection:
        starts = sorted(set(connection.scalars(select(table.c.bucket_start).where(rows))))
        assert starts, "no statistics to move"
        for start in starts:  # oldest first: a moved row never meets one still to move
            connection.execute(
                update(table)
                .where(rows, table.c.bucket_start == start)
                .values(bucket_start=start - timedelta(minutes=minutes))
            )


def test_a_take_up_rate_drop_fires_then_resolves(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    web: dict[str, Any],
    settings: Settings,
    db: Database,
) -> None:
    scheduler = _scheduler(settings, db)
    alert_id = _create_alert(
        client,
        admin_headers,
        "take-up",
        {"type": "TAKE_UP_RATE_DROP", "threshold": 0.4, "windowMinutes": 5},
    )
    # the window before: 2 take-ups of 4 answers, a take-up rate of 0.5
    _answer(client, recommend_headers, count=4, take_ups=2)
    scheduler.tick(now=datetime.now(UTC))
    alone = _alert(client, admin_headers, alert_id)
    assert alone["conditionDescription"] == "TAKE_UP_RATE_DROP > 0.4 over 5 min"
    # nothing before them to compare with: no drop to measure
    assert alone["state"] == "OK" and alone["lastValue"] is None
    _move_statistics_back(db, "web", minutes=5)
    # this window: 1 take-up of 4 answers, 0.25: the rate fell by half
    _answer(client, recommend_headers, count=4, take_ups=1)
    now = datetime.now(UTC)
    scheduler.tick(now=now)
    fired = _alert(client, admin_headers, alert_id)
    assert fired["state"] == "FIRING" and fired["lastValue"] == 0.5
    assert _history(fired) == ["FIRING"]
    assert "alert 'take-up' FIRING: TAKE_UP_RATE_DROP > 0.4" in fired["history"][0]["message"]
    # ten minutes on, this window holds no answer: no rate, the alert resolves
    scheduler.tick(now=now + timedelta(minutes=10))
    resolved = _alert(client, admin_headers, alert_id)
    assert resolved["state"] == "RESOLVED" and resolved["lastValue"] is None
    assert _history(resolved) == ["RESOLVED", "FIRING"]


def _ndcg_at_10(client: TestClient, headers: Headers, model_id: str) -> float:
    model = client.get(f"/api/models/{model_id}", headers=headers).json()
    metrics = model["statistics"]["evaluation"]["metrics"]["ndcgMetrics"]
    return float(next(m["value"] for m in metrics if m["k"] == 10))


def test_a_model_metric_drop_fires_on_a_worse_promotion_and_resolves_on_rollback(
    client: TestClient,
    admin_headers: Headers,
    project: str,
    deploy: Callable[..., dict[str, Any]],
    train: Callable[..., str],
    settings: Settings,
    db: Database,
) -> None:
    scheduler = _scheduler(settings, db)
    trained = [train(supportThreshold=s, **EVALUATED) for s in (3, 6)]
    ndcg = {m: _ndcg_at_10(client, admin_headers, m) for m in trained}
    better, worse = sorted(trained, key=ndcg.__getitem__, reverse=True)
    assert ndcg[better] > ndcg[worse] > 0, ndcg
    drop = 1 - ndcg[worse] / ndcg[better]
    deploy(better)
    alert_id = _create_alert(
        client,
        admin_headers,
        "quality",
        {"type": "MODEL_METRIC_DROP", "metric": "ndcg@10", "threshold": drop / 2},
    )
    # one model served: nothing to compare it with
    scheduler.tick(now=datetime.now(UTC))
    first = _alert(client, admin_headers, alert_id)
    assert first["state"] == "OK" and first["lastValue"] is None
    assert first["conditionDescription"].startswith("MODEL_METRIC_DROP ndcg@10 > ")
    promoted = client.post(
        "/api/deployments/web/set-model-version",
        json={"modelVersion": worse},
        headers=admin_headers,
    )
    assert promoted.status_code == 200, promoted.text
    assert wait_stable(client, admin_headers, "web")["modelVersion"] == worse
    scheduler.tick(now=datetime.now(UTC))
    fired = _alert(client, admin_headers, alert_id)
    assert fired["state"] == "FIRING"
    assert fired["lastValue"] == pytest.approx(drop)
    assert _history(fired) == ["FIRING"]
    # rolled back: the better model serves again, the worse one does not count
    rolled = client.post("/api/deployments/web/rollback", headers=admin_headers)
    assert rolled.status_code == 200, rolled.text
    assert wait_stable(client, admin_headers, "web")["modelVersion"] == better
    scheduler.tick(now=datetime.now(UTC))
    resolved = _alert(client, admin_headers, alert_id)
    assert resolved["state"] == "RESOLVED" and resolved["lastValue"] is None
    assert _history(resolved) == ["RESOLVED", "FIRING"]


def _failed_training(
    client: TestClient, headers: Headers, container: str, run_jobs: Callable[[], int], **body: Any
) -> None:
    created = client.post(
        "/api/models",
        json={"blobContainerName": container, "usageRelativePath": "bad.csv", **body},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    run_jobs()
    model = client.get(f"/api/models/{created.json()['id']}", headers=headers).json()
    assert model["modelStatus"] == "Failed", model


def test_job_failures_of_the_project_fire_then_resolve(
    client: TestClient,
    admin_headers: Headers,
    web: dict[str, Any],
    container: str,
    run_jobs: Callable[[], int],
    settings: Settings,
    db: Database,
) -> None:
    scheduler = _scheduler(settings, db)
    alert_id = _create_alert(
        client,
        admin_headers,
        "trainings",
        {"type": "JOB_FAILURES", "threshold": 2, "windowMinutes": 5},
    )
    # a training of no project fails: not one of the deployment's project
    _failed_training(client, admin_headers, container, run_jobs)
    scheduler.tick(now=datetime.now(UTC))
    none = _alert(client, admin_headers, alert_id)
    # a count reaching the threshold breaches it (the threshold is a number: 2 or 2.0)
    described = none["conditionDescription"]
    assert described.startswith("JOB_FAILURES >= 2") and described.endswith(" over 5 min")
    assert none["state"] == "OK" and none["lastValue"] == 0.0
    _failed_training(client, admin_headers, container, run_jobs, projectId="shop")
    scheduler.tick(now=datetime.now(UTC))
    one = _alert(client, admin_headers, alert_id)
    assert one["state"] == "OK" and one["lastValue"] == 1.0
    _failed_training(client, admin_headers, container, run_jobs, projectId="shop")
    now = datetime.now(UTC)
    scheduler.tick(now=now)
    fired = _alert(client, admin_headers, alert_id)
    assert fired["state"] == "FIRING" and fired["lastValue"] == 2.0
    assert _history(fired) == ["FIRING"]
    # ten minutes on, both failures are older than the window
    scheduler.tick(now=now + timedelta(minutes=10))
    resolved = _alert(client, admin_headers, alert_id)
    assert resolved["state"] == "RESOLVED" and resolved["lastValue"] == 0.0
    assert _history(resolved) == ["RESOLVED", "FIRING"]


def test_a_latency_p99_above_the_threshold_fires_then_resolves(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    web: dict[str, Any],
    settings: Settings,
    db: Database,
) -> None:
    scheduler = _scheduler(settings, db)
    start = datetime.now(UTC) - timedelta(minutes=1)
    _answer(client, recommend_headers, count=6, take_ups=0)
    statistics = client.get(
        "/api/deployments/web/statistics",
        params={"startDate": start.isoformat(), "interval": "minute"},
        headers=admin_headers,
    )
    assert statistics.status_code == 200, statistics.text
    p99 = statistics.json()["summary"]["latencyP99Ms"]
    assert p99 > 0
    # the p99 the statistics report: above half of it, not above twice it
    slow = _create_alert(
        client, admin_headers, "slow", {"type": "LATENCY_P99", "threshold": p99 / 2}
    )
    fast = _create_alert(
        client, admin_headers, "very slow", {"type": "LATENCY_P99", "threshold": p99 * 2}
    )
    now = datetime.now(UTC)
    scheduler.tick(now=now)
    fired, quiet = (_alert(client, admin_headers, a) for a in (slow, fast))
    assert fired["state"] == "FIRING" and fired["lastValue"] == p99
    assert _history(fired) == ["FIRING"]
    assert quiet["state"] == "OK" and quiet["lastValue"] == p99 and quiet["history"] == []
    # ten minutes on, no request in the window: no p99, resolved (the other never fired)
    scheduler.tick(now=now + timedelta(minutes=10))
    resolved, still = (_alert(client, admin_headers, a) for a in (slow, fast))
    assert resolved["state"] == "RESOLVED" and resolved["lastValue"] is None
    assert _history(resolved) == ["RESOLVED", "FIRING"]
    assert still["state"] == "OK" and still["history"] == []
