"""Batch scoring, campaigns and item exploration beyond the happy path: a batch job's progress
(before, during and after its run), a campaign that cannot be deployed and is mended by an
update, a campaign's deletion statuses, and explored items in a deployment's prediction log
when items' ages come from their first interactions."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from batch.conftest import describe, read_lines
from recostack.jobs.batch_runner import run_batch_job
from recostack.jobs.queue import ClaimedJob, JobKind, claim_next
from recostack.jobs.runner import JobCancelled
from recostack.jobs.worker import Worker
from recostack.settings import Settings
from recostack.store.engine import Database


class _StopAfter(threading.Event):
    """A cancel event that a batch run finds set from its ``checks``-th look on: the run stops
    between two chunks, as when a worker is told to stop."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self._left = checks

    def is_set(self) -> bool:
        self._left -= 1
        return self._left < 0 or super().is_set()


def _claim(settings: Settings, db: Database, worker: Worker, kind: str) -> ClaimedJob:
    """Claim the next job of ``kind`` for ``worker``, as its loop does, without running it."""
    with db.transaction() as session:
        job = claim_next(
            session, worker.owner, lease_seconds=settings.job_lease_seconds, kinds=[kind]
        )
    assert job is not None
    return job


# --- 1. a batch job's progress ------------------------------------------------------------------


def test_a_batch_job_s_progress_before_during_and_after_its_run(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    db: Database,
    write_input: Callable[[str, list[Any]], str],
    create_job: Callable[..., dict[str, Any]],
) -> None:
    lines = [{"userId": f"user{i % 24}", "line": i} for i in range(30)]
    job = create_job(
        jobName="progress",
        solutionVersionArn=trained_model["id"],
        jobInput={"path": write_input("progress.jsonl", lines)},
        jobOutput={"path": "output/progress.out"},
    )
    job_id = job["batchInferenceJobArn"]
    assert job["status"] == "PENDING"
    assert job["progress"]["linesDone"] == 0 and job["progress"]["chunksDone"] == 0
    assert job["progress"]["linesPerSecond"] is None and job["progress"]["etaSeconds"] is None

    # one chunk of ten lines through the real runner, then it is stopped between chunks
    worker = Worker(settings, db, name="test")
    claimed = _claim(settings, db, worker, JobKind.BATCH)
    small_chunks = settings.model_copy(update={"batch_chunk_lines": 10, "batch_processes": 1})
    with pytest.raises(JobCancelled):
        run_batch_job(small_chunks, db, claimed, _StopAfter(1))
    middle = describe(client, admin_headers, job_id)
    progress = middle["progress"]
    assert middle["status"] == "IN PROGRESS", middle
    assert (progress["linesDone"], progress["linesTotal"], progress["chunksDone"]) == (10, 30, 1)
    rate = progress["linesPerSecond"]
    assert rate is not None and rate > 0, progress
    # the ETA is the lines left at the rate shown
    assert progress["etaSeconds"] == pytest.approx(round((30 - 10) / rate, 1)), progress

    worker.process(claimed)  # the same worker goes on from its last finished chunk
    done = describe(client, admin_headers, job_id)
    progress = done["progress"]
    assert done["status"] == "ACTIVE", done
    assert progress["linesDone"] == progress["linesTotal"] == 30 and progress["linesFailed"] == 0
    assert progress["linesPerSecond"] is not None and progress["linesPerSecond"] > 0
    assert progress["etaSeconds"] is None
    out = read_lines(settings.files_dir / "output" / "progress.out")
    assert [o["input"]["line"] for o in out] == list(range(30))


# --- 2. campaigns beyond the happy path ---------------------------------------------------------


def _campaign(client: TestClient, headers: dict[str, str], name: str) -> dict[str, Any]:
    answer = client.get(f"/api/campaigns/{name}", headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["campaign"])


def test_a_campaign_that_cannot_be_deployed_fails_and_an_update_mends_it(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    train: Callable[..., str],
    run_jobs: Callable[[], int],
) -> None:
    sound = train(supportThreshold=3)
    broken = trained_model["id"]
    shutil.rmtree(settings.models_dir / broken)  # Completed, but its artifacts are gone
    created = client.post(
        "/api/campaigns",
        json={"name": "shop", "solutionVersionArn": broken},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert run_jobs() == 1
    failed = _campaign(client, admin_headers, "shop")
    assert failed["status"] == "CREATE FAILED", failed
    reason = failed["failureReason"] or ""
    assert "deployment failed" in reason and broken in reason and "artifacts" in reason, failed
    assert failed["measuredTPS"] is None

    updated = client.patch(
        "/api/campaigns/shop", json={"solutionVersionArn": sound}, headers=admin_headers
    )
    assert updated.status_code == 200, updated.text
    pending = _campaign(client, admin_headers, "shop")
    assert pending["status"] == "CREATE PENDING" and pending["failureReason"] is None
    assert pending["solutionVersionArn"] == sound
    assert pending["latestCampaignUpdate"]["status"] == "CREATE PENDING"
    again = client.patch(
        "/api/campaigns/shop", json={"minProvisionedTPS": 2}, headers=admin_headers
    )
    assert again.status_code == 409, again.text  # no longer CREATE FAILED

    assert run_jobs() == 1
    active = _campaign(client, admin_headers, "shop")
    assert active["status"] == "ACTIVE", active
    assert active["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert active["measuredTPS"] > 0
    answer = client.get(
        "/api/campaigns/shop/recommendations?itemId=item3&numResults=4", headers=recommend_headers
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["itemList"]) == 4


def test_a_deleted_campaign_is_delete_pending_then_in_progress_then_gone(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    db: Database,
    run_jobs: Callable[[], int],
) -> None:
    created = client.post(
        "/api/campaigns",
        json={"name": "shop", "solutionVersionArn": trained_model["id"]},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert run_jobs() == 1
    assert _campaign(client, admin_headers, "shop")["status"] == "ACTIVE"

    def refused() -> None:
        """Neither an update nor another deletion while the deletion is under way."""
        update = client.patch(
            "/api/campaigns/shop", json={"minProvisionedTPS": 2}, headers=admin_headers
        )
        assert update.status_code == 409, update.text
        delete = client.delete("/api/campaigns/shop", headers=admin_headers)
        assert delete.status_code == 409, delete.text

    deleted = client.delete("/api/campaigns/shop", headers=admin_headers)
    assert deleted.status_code == 202, deleted.text
    assert _campaign(client, admin_headers, "shop")["status"] == "DELETE PENDING"
    refused()
    worker = Worker(settings, db, name="test")
    claimed = _claim(settings, db, worker, JobKind.CAMPAIGN)
    assert _campaign(client, admin_headers, "shop")["status"] == "DELETE IN_PROGRESS"
    refused()
    worker.process(claimed)
    assert client.get("/api/campaigns/shop", headers=admin_headers).status_code == 404
    assert client.get("/api/deployments/campaign-shop", headers=admin_headers).status_code == 404


def test_a_campaign_is_create_in_progress_while_a_worker_deploys_it_and_so_is_its_update(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    db: Database,
    train: Callable[..., str],
) -> None:
    created = client.post(
        "/api/campaigns",
        json={"name": "shop", "solutionVersionArn": trained_model["id"]},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert _campaign(client, admin_headers, "shop")["status"] == "CREATE PENDING"
    worker = Worker(settings, db, name="test")
    claimed = _claim(settings, db, worker, JobKind.CAMPAIGN)
    creating = _campaign(client, admin_headers, "shop")
    assert creating["status"] == "CREATE IN_PROGRESS", creating
    for refused in (
        client.patch("/api/campaigns/shop", json={"minProvisionedTPS": 2}, headers=admin_headers),
        client.delete("/api/campaigns/shop", headers=admin_headers),
    ):
        assert refused.status_code == 409, refused.text
    worker.process(claimed)
    assert _campaign(client, admin_headers, "shop")["status"] == "ACTIVE"

    # an update: the campaign stays ACTIVE and serves its model while the new one deploys
    newer = train(supportThreshold=3)
    updated = client.patch(
        "/api/campaigns/shop", json={"solutionVersionArn": newer}, headers=admin_headers
    )
    assert updated.status_code == 200, updated.text
    claimed = _claim(settings, db, worker, JobKind.CAMPAIGN)
    updating = _campaign(client, admin_headers, "shop")
    assert updating["status"] == "ACTIVE", updating
    assert updating["latestCampaignUpdate"]["status"] == "CREATE IN_PROGRESS", updating
    assert updating["solutionVersionArn"] == trained_model["id"]
    served = client.get(
        "/api/campaigns/shop/recommendations?itemId=item3&numResults=3", headers=recommend_headers
    )
    assert served.status_code == 200, served.text
    again = client.patch(
        "/api/campaigns/shop", json={"minProvisionedTPS": 2}, headers=admin_headers
    )
    assert again.status_code == 409, again.text  # an update in progress
    worker.process(claimed)
    done = _campaign(client, admin_headers, "shop")
    assert done["status"] == "ACTIVE" and done["solutionVersionArn"] == newer, done
    assert done["latestCampaignUpdate"]["status"] == "ACTIVE", done


# --- 3. explored items in the prediction log; ages from first interactions ----------------------

OLD_DAY = "2024-01-{day:02d}T10:00:00"  # over 30 days before the newest interaction
NEWEST = "2024-03-10T10:00:00"


def _model_aged_by_first_use(
    client: TestClient, headers: dict[str, str], settings: Settings, run_jobs: Callable[[], int]
) -> str:
    """A model whose catalog has no creation times: ``fresh1`` and ``fresh2`` are first used
    within the cut-off, ``stale`` long before it (and again recently); all three have few users,
    the eight ``item`` ones many."""
    lines = [
        f"user{u},item{i},{OLD_DAY.format(day=1 + (u + i) % 28)}"
        for u in range(20)
        for i in range(8)
        if (u + i) % 3
    ]
    lines += [
        f"user0,fresh1,{NEWEST}",
        "user1,fresh2,2024-03-05T10:00:00",
        "user2,stale,2023-06-01T10:00:00",  # its first use: far beyond the cut-off
        "user3,stale,2024-03-09T10:00:00",
    ]
    folder = settings.files_dir / "aged"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "usage.csv").write_text("\n".join(lines) + "\n")
    items = [f"item{i}" for i in range(8)] + ["fresh1", "fresh2", "stale"]
    catalog = [f"{item},{item.title()},books,,colour=red" for item in items]
    (folder / "catalog.csv").write_text("\n".join(catalog) + "\n")
    answer = client.post(
        "/api/models",
        json={
            "blobContainerName": "aged",
            "usageRelativePath": "usage.csv",
            "catalogFileRelativePath": "catalog.csv",
            "enableUserToItemRecommendations": True,
        },
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    assert run_jobs() == 1
    model = str(answer.json()["id"])
    described = client.get(f"/api/models/{model}", headers=headers).json()
    assert described["modelStatus"] == "Completed", described
    return model


def test_explored_items_are_logged_and_ages_come_from_first_interactions(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    settings: Settings,
    run_jobs: Callable[[], int],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    model = _model_aged_by_first_use(client, admin_headers, settings, run_jobs)
    deploy(model, itemExplorationConfig={"explorationWeight": 1, "explorationItemAgeCutOff": 30})
    answers: dict[str, list[dict[str, Any]]] = {}
    # users who never used the rare items, asking for two: the model's own two are always
    # eight-item ones (each user has two or three of those left), so a rare item in an answer
    # is there by exploration only
    for user in range(4, 20):
        for _ in range(2):
            body = client.post(
                "/api/deployments/web/recommend",
                json={"userId": f"user{user}", "recommendationCount": 2},
                headers=recommend_headers,
            )
            assert body.status_code == 200, body.text
            answers[body.json()["requestId"]] = body.json()["items"]
    explored = [i for items in answers.values() for i in items if i.get("reason") == "exploration"]
    assert {i["itemId"] for i in explored} == {"fresh1", "fresh2"}  # never "stale"
    assert all(0 < i["propensity"] <= 0.5 for i in explored)
    models_own = [i for items in answers.values() for i in items if "reason" not in i]
    assert all(i["itemId"].startswith("item") and "propensity" not in i for i in models_own)

    assert client.app.state.serving.prediction_logger.flush(10)  # type: ignore[attr-defined]
    logged = client.get(
        "/api/deployments/web/prediction-logs", params={"limit": 100}, headers=admin_headers
    ).json()
    assert {record["requestId"]: record["items"] for record in logged} == answers
