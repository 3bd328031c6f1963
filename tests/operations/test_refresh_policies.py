"""Refresh policies through HTTP, and each due time run exactly once by many worker processes."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from recostack.jobs.scheduler import Scheduler
from recostack.jobs.worker import Worker
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.operations_tables import RefreshPolicyRow, ScheduleClaimRow
from recostack.store.tables import ModelRow

DUE_TIMES = 5
PROCESSES = 3


def _scheduler_process(settings_json: str, base: str) -> None:
    """One worker process: a scheduler ticking through the due times, then a worker training."""
    settings = Settings.model_validate_json(settings_json)
    db = Database.open(settings.effective_database_url)
    try:
        scheduler = Scheduler(settings, db)
        start = datetime.fromisoformat(base)
        for minute in range(DUE_TIMES):
            scheduler.tick(now=start + timedelta(minutes=minute))
        worker = Worker(settings, db, name="refresh-test")
        while worker.run_once():
            pass
    finally:
        db.dispose()


def test_three_worker_processes_run_five_due_times_once_each(
    client: TestClient,
    admin_headers: dict[str, str],
    web: dict[str, Any],
    settings: Settings,
    db: Database,
) -> None:
    created = client.post(
        "/api/deployments/web/refresh-policies",
        json={"cron": "* * * * *", "name": "every minute"},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["refreshType"] == "DEPLOYMENT" and policy["deploymentIds"] == ["web"]
    base = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with db.transaction() as session:  # the first due time: a known minute
        session.execute(
            update(RefreshPolicyRow)
            .where(RefreshPolicyRow.id == policy["refreshPolicyId"])
            .values(next_run_at=base)
        )
    with db.engine.connect() as connection:
        models_before = connection.scalar(select(func.count()).select_from(ModelRow))
    # a fork server that imported the worker once: processes start in milliseconds
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["recostack.jobs.worker", "recostack.jobs.scheduler"])
    processes = [
        context.Process(
            target=_scheduler_process,
            args=(settings.model_dump_json(), base.isoformat()),
        )
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(90)
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    with db.engine.connect() as connection:
        claims = connection.execute(
            select(ScheduleClaimRow.due_at, ScheduleClaimRow.outcome).order_by(
                ScheduleClaimRow.due_at
            )
        ).all()
        models = connection.execute(
            select(ModelRow.id, ModelRow.status, ModelRow.project_id).where(
                ModelRow.description.like("every minute at %")
            )
        ).all()
        total = connection.scalar(select(func.count()).select_from(ModelRow))
    assert [c.due_at for c in claims] == [base + timedelta(minutes=m) for m in range(DUE_TIMES)]
    assert all(c.outcome.startswith("model ") for c in claims)
    assert len(models) == DUE_TIMES and total == models_before + DUE_TIMES
    assert {m.status for m in models} == {"Completed"}  # five trainings, by the processes
    assert {m.project_id for m in models} == {"shop"}  # offered to the project's auto-deploy
    described = client.get("/api/deployments/web", headers=admin_headers).json()
    schedule = described["refreshSchedules"][0]
    assert schedule["refreshPolicyId"] == policy["refreshPolicyId"]
    assert schedule["nextRunTime"].startswith("2026-01-01T12:05:00")


def test_pause_resume_run_now_and_delete(
    client: TestClient,
    admin_headers: dict[str, str],
    web: dict[str, Any],
    trained_model: dict[str, Any],
    run_jobs: Any,
) -> None:
    model_id = trained_model["id"]
    created = client.post(
        f"/api/models/{model_id}/refresh-policies",
        json={"cron": "0 3 * * *"},
        headers=admin_headers,
    ).json()
    policy_id = created["refreshPolicyId"]
    assert created["refreshType"] == "MODEL" and created["modelIds"] == [model_id]
    assert created["nextRunTime"].endswith("T03:00:00.000000Z")
    path = f"/api/refresh-policies/{policy_id}"
    paused = client.post(f"{path}/pause", headers=admin_headers).json()
    assert paused["paused"] is True and paused["nextRunTime"] is None
    resumed = client.post(f"{path}/resume", headers=admin_headers).json()
    assert resumed["paused"] is False and resumed["nextRunTime"]
    ran = client.post(f"{path}/run", headers=admin_headers)
    assert ran.status_code == 200, ran.text
    new_model = ran.json()["lastModelId"]
    assert new_model and new_model != model_id
    assert run_jobs() == 1
    trained = client.get(f"/api/models/{new_model}", headers=admin_headers).json()
    assert trained["modelStatus"] == "Completed"
    # the same parameters as the lineage's model, on the input files as they are now
    for name in ("usageRelativePath", "supportThreshold", "enableUserToItemRecommendations"):
        assert trained["parameters"][name] == trained_model["parameters"][name]
    listed = client.get(f"/api/models/{model_id}/refresh-policies", headers=admin_headers).json()
    assert [p["refreshPolicyId"] for p in listed] == [policy_id]
    assert client.get("/api/refresh-policies", headers=admin_headers).json()[0]["refreshPolicyId"]
    assert client.delete(path, headers=admin_headers).status_code == 204
    assert client.get(path, headers=admin_headers).status_code == 404


def test_a_cron_that_does_not_parse_is_refused_and_nothing_is_stored(
    client: TestClient, admin_headers: dict[str, str], web: dict[str, Any]
) -> None:
    for cron in ("every day", "61 * * * *", "* * *", ""):
        answer = client.post(
            "/api/deployments/web/refresh-policies", json={"cron": cron}, headers=admin_headers
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["field"] == "cron"
    assert client.get("/api/deployments/web/refresh-policies", headers=admin_headers).json() == []
