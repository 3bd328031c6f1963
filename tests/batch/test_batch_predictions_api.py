"""Batch predictions through a deployment: its whole pipeline (customer lookup, whitelist,
rules), CSV output with prefixes and metadata, describe / list / start, and the schedule."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from batch.conftest import read_lines
from recostack.jobs.batch_schedule import run_due_batch_predictions
from recostack.settings import Settings
from recostack.store.batch_tables import BatchPredictionRow
from recostack.store.engine import Database
from recostack.store.tables import utcnow


def _deploy_with_whitelist(
    client: TestClient, headers: dict[str, str], deploy: Callable[..., dict[str, Any]], model: str
) -> None:
    records = [
        {
            "customerId": "user1",
            "fields": {"allowed": "item1;item3;item5;item7;item9;item11;item13"},
        },
        {"customerId": "user2", "fields": {"allowed": "item4;item5"}},
    ]
    answer = client.post("/api/customers/crm", json=records, headers=headers)
    assert answer.status_code in (200, 201), answer.text
    deploy(
        model,
        parameterAccess={"collection": "crm"},
        whitelist={"field": "allowed", "when_missing": "all"},
        businessRules={"filters": ["category:eq:books"]},
    )


def test_a_batch_prediction_goes_through_the_deployment_s_pipeline(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    deploy: Callable[..., dict[str, Any]],
    write_input: Callable[[str, list[Any]], str],
    run_jobs: Callable[[], int],
) -> None:
    _deploy_with_whitelist(client, admin_headers, deploy, trained_model["id"])
    path = settings.files_dir / "input" / "people.csv"
    path.write_text("userId,segment\nuser1,a\nuser2,b\nuser9,c\n")
    created = client.post(
        "/api/deployments/web/batch-predictions",
        json={
            "name": "nightly",
            "globalPredictionArgs": {"recommendationCount": 3},
            "batchPredictionArgs": {"inputLocation": "input/people.csv"},
            "outputFormat": "CSV",
            "outputLocation": "out/people.csv",
            "csvInputPrefix": "in_",
            "csvPredictionPrefix": "pred_",
            "outputIncludesMetadata": True,
            "resultInputColumns": ["userId"],
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    prediction = created.json()
    assert prediction["status"] == "PENDING"
    assert run_jobs() == 1
    described = client.get(
        f"/api/batch-predictions/{prediction['batchPredictionId']}", headers=admin_headers
    ).json()
    assert described["status"] == "ACTIVE", described
    rows = list(csv.DictReader(io.StringIO((settings.files_dir / "out/people.csv").read_text())))
    assert [r["in_userId"] for r in rows] == ["user1", "user2", "user9"]
    assert set(rows[0]) >= {"pred_recommendedItems", "pred_scores", "batchPredictionVersion"}
    # the reference's metadata: start time, batch prediction version and model version
    assert [r["modelVersion"] for r in rows] == [trained_model["id"]] * 3
    assert all(r["predictionStartTime"] for r in rows)
    odd = {f"item{i}" for i in range(14) if i % 2}  # category books
    for row, allowed in zip(rows, (odd, {"item5"}, odd), strict=True):
        items = set(filter(None, row["pred_recommendedItems"].split(";")))
        assert items and items <= allowed, (row, allowed)
    # each answer as the deployment gives it
    online = client.post(
        "/api/deployments/web/recommend",
        json={"userId": "user1", "recommendationCount": 3},
        headers=admin_headers,
    ).json()
    assert rows[0]["pred_recommendedItems"] == ";".join(i["itemId"] for i in online["items"])
    listed = client.get("/api/deployments/web/batch-predictions", headers=admin_headers).json()
    assert [p["name"] for p in listed] == ["nightly"]
    again = client.post(
        f"/api/batch-predictions/{prediction['batchPredictionId']}/start", headers=admin_headers
    )
    assert again.status_code == 200 and len(again.json()["versions"]) == 2


def test_scheduled_runs_are_queued_once_per_due_time(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    db: Database,
    deploy: Callable[..., dict[str, Any]],
    write_input: Callable[[str, list[Any]], str],
    run_jobs: Callable[[], int],
) -> None:
    deploy(trained_model["id"])
    hook = client.post(
        "/api/deployments/web/webhooks",
        json={"endpoint": "http://127.0.0.1:9/batch", "webhookEventType": "BATCH_DONE"},
        headers=admin_headers,
    )
    assert hook.status_code == 201, hook.text
    source = write_input("few.jsonl", [{"userId": "user1"}, {"itemId": "item2"}])
    created = client.post(
        "/api/deployments/web/batch-predictions",
        json={
            "batchPredictionArgs": {
                "inputLocation": source,
                "itemExplorationConfig": {"explorationWeight": "0.9"},
            },
            "refreshSchedule": "0 3 * * *",
        },
        headers=admin_headers,
    ).json()
    assert created["refreshSchedules"][0]["cron"] == "0 3 * * *"
    assert run_jobs() == 1
    assert run_due_batch_predictions(settings, db) == 0  # not due yet
    with db.transaction() as session:
        session.execute(
            update(BatchPredictionRow).values(next_run_at=utcnow() - timedelta(minutes=1))
        )
    assert run_due_batch_predictions(settings, db) == 1
    assert run_due_batch_predictions(settings, db) == 0  # that due time is taken
    assert run_jobs() == 1
    described = client.get(
        f"/api/batch-predictions/{created['batchPredictionId']}", headers=admin_headers
    ).json()
    assert [v["status"] for v in described["versions"]] == ["ACTIVE", "ACTIVE"]
    next_run = described["refreshSchedules"][0]["nextRunTime"]
    assert next_run is not None and "T03:00:00" in next_run
    deliveries = client.get(
        f"/api/webhooks/{hook.json()['webhookId']}/deliveries", headers=admin_headers
    ).json()
    assert [d["eventType"] for d in deliveries] == ["BATCH_DONE", "BATCH_DONE"]  # one a run
    out = read_lines(settings.files_dir / "batch-predictions" / "web" / "web-batch.jsonl")
    assert len(out) == 2 and all(o["error"] is None for o in out)
    assert all("reasons" in o["output"] and "requestId" in o["output"] for o in out)
