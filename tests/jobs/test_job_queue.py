"""Leased claims of training jobs, on both databases."""

from __future__ import annotations

import threading
import time

from recostack.jobs.queue import (
    claim_next,
    enqueue_training,
    expire_dead_leases,
    fail_abandoned,
    finish_failed,
    finish_succeeded,
    heartbeat,
    release,
)
from recostack.store.engine import Database
from recostack.store.model_repository import create_model, get_model
from recostack.store.tables import JobStatus, TrainingJobRow
from recostack.training.status import ModelStatus


def _queue(db: Database, n: int = 1, max_attempts: int = 3) -> list[str]:
    ids = []
    for _ in range(n):
        with db.transaction() as session:
            row = create_model(session, description=None, parameters={"usageRelativePath": "u"})
            enqueue_training(session, row.id, max_attempts=max_attempts)
            ids.append(row.id)
    return ids


def _status(db: Database, model_id: str) -> tuple[str, str | None]:
    with db.transaction() as session:
        row = get_model(session, model_id)
        return row.status, row.status_message


def test_claims_take_the_oldest_job_once(db: Database) -> None:
    first, second = _queue(db, 2)
    with db.transaction() as session:
        a = claim_next(session, "a", lease_seconds=30)
    with db.transaction() as session:
        b = claim_next(session, "b", lease_seconds=30)
    with db.transaction() as session:
        assert claim_next(session, "c", lease_seconds=30) is None
    assert a is not None and b is not None
    assert (a.model_id, a.attempt, a.owner) == (first, 1, "a")
    assert b.model_id == second
    assert _status(db, first) == (ModelStatus.IN_PROGRESS, "Model training in progress")


def test_concurrent_claims_never_share_a_job(db: Database) -> None:
    _queue(db, 3)
    claimed: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def claim(owner: str) -> None:
        start.wait()
        while True:
            with db.transaction() as session:
                job = claim_next(session, owner, lease_seconds=30)
            if job is None:
                return
            with lock:
                claimed.append(job.model_id)

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == 3 and len(set(claimed)) == 3


def test_an_expired_lease_is_claimed_again_and_the_old_owner_is_locked_out(db: Database) -> None:
    (model_id,) = _queue(db)
    with db.transaction() as session:
        dead = claim_next(session, "dead", lease_seconds=0.05)
    assert dead is not None
    time.sleep(0.1)
    with db.transaction() as session:
        alive = claim_next(session, "alive", lease_seconds=30)
    assert alive is not None and alive.attempt == 2
    assert "attempt 2 of 3" in (_status(db, model_id)[1] or "")
    with db.transaction() as session:
        assert heartbeat(session, dead, lease_seconds=30) is False
        assert finish_succeeded(session, dead, {"x": 1}) is False
        assert heartbeat(session, alive, lease_seconds=30, progress="half way") is True
    assert _status(db, model_id) == (ModelStatus.IN_PROGRESS, "half way")
    with db.transaction() as session:
        assert finish_succeeded(session, alive, {"x": 2}) is True
    with db.transaction() as session:
        row = get_model(session, model_id)
        assert (row.status, row.statistics) == (ModelStatus.COMPLETED, {"x": 2})
        assert row.status_message == "Model Training Completed Successfully"


def test_a_heartbeat_keeps_the_lease(db: Database) -> None:
    _queue(db)
    with db.transaction() as session:
        job = claim_next(session, "w", lease_seconds=0.2)
    assert job is not None
    for _ in range(4):
        time.sleep(0.1)
        with db.transaction() as session:
            assert heartbeat(session, job, lease_seconds=0.2)
    with db.transaction() as session:
        assert claim_next(session, "thief", lease_seconds=30) is None


def test_a_job_abandoned_on_its_last_attempt_fails_with_the_reason(db: Database) -> None:
    (model_id,) = _queue(db, max_attempts=2)
    for owner in ("first", "second"):
        with db.transaction() as session:
            assert claim_next(session, owner, lease_seconds=0.05) is not None
        time.sleep(0.1)
    with db.transaction() as session:
        assert claim_next(session, "third", lease_seconds=30) is None
        assert fail_abandoned(session) == [model_id]
    status, message = _status(db, model_id)
    assert status == ModelStatus.FAILED
    assert message is not None and "after 2 attempts" in message and "lease expired" in message
    with db.transaction() as session:
        job = session.query(TrainingJobRow).one()
        assert job.status == JobStatus.FAILED
        assert fail_abandoned(session) == []


def test_release_without_counting_gives_the_attempt_back(db: Database) -> None:
    (model_id,) = _queue(db, max_attempts=1)
    with db.transaction() as session:
        job = claim_next(session, "w", lease_seconds=30)
    assert job is not None
    with db.transaction() as session:
        assert release(session, job, "the worker stopped", count_attempt=False)
    assert _status(db, model_id)[0] == ModelStatus.CREATED
    with db.transaction() as session:
        again = claim_next(session, "w2", lease_seconds=30)
    assert again is not None and again.attempt == 1
    with db.transaction() as session:
        assert release(session, again, "the training process died", count_attempt=True)
    status, message = _status(db, model_id)
    assert status == ModelStatus.FAILED
    assert message == "Model training failed after 1 attempt: the training process died"


def test_finish_failed_keeps_the_statistics(db: Database) -> None:
    (model_id,) = _queue(db)
    with db.transaction() as session:
        job = claim_next(session, "w", lease_seconds=30)
    assert job is not None
    report = {"usageEventsParsing": {"errors": [{"error": "MissingFields", "count": 1}]}}
    with db.transaction() as session:
        assert finish_failed(session, job, "usage: no valid line", report)
    with db.transaction() as session:
        row = get_model(session, model_id)
        assert (row.status, row.status_message, row.statistics) == (
            ModelStatus.FAILED,
            "usage: no valid line",
            report,
        )


def test_leases_of_dead_local_processes_end_at_once(db: Database) -> None:
    _queue(db, 2)
    with db.transaction() as session:
        dead = claim_next(session, "here:123:a", lease_seconds=600)
        alive = claim_next(session, "here:456:b", lease_seconds=600)
    assert dead is not None and alive is not None
    with db.transaction() as session:
        assert expire_dead_leases(session, "elsewhere", lambda owner: True) == 0
        assert expire_dead_leases(session, "here", lambda owner: owner == dead.owner) == 1
    with db.transaction() as session:
        again = claim_next(session, "here:789:c", lease_seconds=600)
    assert again is not None and again.model_id == dead.model_id and again.attempt == 2
    with db.transaction() as session:
        assert claim_next(session, "here:789:d", lease_seconds=600) is None
