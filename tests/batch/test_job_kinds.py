"""The workers' one queue of jobs of every kind: claims by kind, each kind's subject status."""

from __future__ import annotations

import time

from recostack.jobs.queue import JobKind, claim_next, enqueue, fail_abandoned, release
from recostack.store.batch_repository import create_batch_job, get_batch_job
from recostack.store.engine import Database
from recostack.store.model_repository import create_model, get_model


def test_jobs_of_each_kind_are_claimed_by_kind_and_move_their_subject(db: Database) -> None:
    with db.transaction() as session:
        model = create_model(session, description="m", parameters={"usageRelativePath": "u"})
        enqueue(session, JobKind.TRAINING, model.id, max_attempts=3)
        batch = create_batch_job(
            session, name="b", kind="inference", output_path="/tmp/x", config={}, input_path=None
        )
        enqueue(session, JobKind.BATCH, batch.id, max_attempts=1)
        model_id, batch_id = model.id, batch.id
    with db.transaction() as session:
        job = claim_next(session, "w", lease_seconds=0.05, kinds=[JobKind.BATCH])
        assert job is not None and job.kind == JobKind.BATCH and job.subject_id == batch_id
        assert get_batch_job(session, batch_id).status == "IN PROGRESS"
        assert get_model(session, model_id).status == "Created"  # not claimed
        assert claim_next(session, "w2", lease_seconds=30, kinds=[JobKind.BATCH]) is None
    time.sleep(0.1)
    with db.transaction() as session:  # its only attempt's lease ran out: the job fails
        assert fail_abandoned(session) == [batch_id]
        failed = get_batch_job(session, batch_id)
        assert failed.status == "CREATE FAILED" and "lease expired" in (failed.failure_reason or "")
    with db.transaction() as session:
        training = claim_next(session, "w", lease_seconds=30)
        assert training is not None and training.model_id == model_id
        assert get_model(session, model_id).status == "InProgress"
        assert release(session, training, "the worker stopped", count_attempt=False)
        assert get_model(session, model_id).status == "Created"
