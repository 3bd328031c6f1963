"""Training jobs as rows: enqueue, claim under a lease, heartbeat, finish.

A job is ``queued`` until a worker claims it; the claim sets it
``running``, counts an attempt and gives the worker a lease that it renews
while it trains. Every later write by the worker is conditioned on still
holding the lease, so a worker that lost it (it stalled, or the model was
deleted) changes nothing. A job whose lease ran out (its worker died) can
be claimed again until ``max_attempts`` claims have been made; then
:func:`fail_abandoned` marks it and its model Failed with the reason.

Claims are atomic on both databases: ``SELECT ... FOR UPDATE SKIP LOCKED``
on PostgreSQL, one ``UPDATE ... WHERE id = (SELECT ...) RETURNING`` under
SQLite's write lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from recostack.store.model_repository import update_model_status
from recostack.store.tables import JobStatus, ModelRow, TrainingJobRow, utcnow
from recostack.training.status import ModelStatus

__all__ = [
    "COMPLETED_MESSAGE",
    "ClaimedJob",
    "claim_next",
    "enqueue_training",
    "expire_dead_leases",
    "fail_abandoned",
    "finish_failed",
    "finish_succeeded",
    "heartbeat",
    "release",
]

COMPLETED_MESSAGE = "Model Training Completed Successfully"


@dataclass(frozen=True)
class ClaimedJob:
    """What a worker holds while it trains one model."""

    job_id: int
    model_id: str
    owner: str
    attempt: int
    max_attempts: int
    parameters: dict[str, Any]


def enqueue_training(session: Session, model_id: str, *, max_attempts: int) -> TrainingJobRow:
    job = TrainingJobRow(
        model_id=model_id,
        status=JobStatus.QUEUED,
        attempts=0,
        max_attempts=max_attempts,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def claim_next(session: Session, owner: str, *, lease_seconds: float) -> ClaimedJob | None:
    """Claim the oldest claimable job for ``owner``, or ``None`` if there is none."""
    now = utcnow()
    claimable = or_(
        TrainingJobRow.status == JobStatus.QUEUED,
        and_(
            TrainingJobRow.status == JobStatus.RUNNING,
            TrainingJobRow.lease_expires_at < now,
            TrainingJobRow.attempts < TrainingJobRow.max_attempts,
        ),
    )
    oldest = (
        select(TrainingJobRow.id)
        .where(claimable)
        .order_by(TrainingJobRow.created_at, TrainingJobRow.id)
        .limit(1)
    )
    claim = update(TrainingJobRow).values(
        status=JobStatus.RUNNING,
        lease_owner=owner,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        attempts=TrainingJobRow.attempts + 1,
        started_at=now,
    )
    if session.get_bind().dialect.name == "postgresql":
        job_id = session.scalar(oldest.with_for_update(skip_locked=True))
        if job_id is None:
            return None
        session.execute(claim.where(TrainingJobRow.id == job_id))
    else:
        job_id = session.scalar(
            claim.where(TrainingJobRow.id == oldest.scalar_subquery(), claimable)
            .returning(TrainingJobRow.id)
            .execution_options(synchronize_session=False)
        )
        if job_id is None:
            return None
    row = session.execute(
        select(
            TrainingJobRow.model_id,
            TrainingJobRow.attempts,
            TrainingJobRow.max_attempts,
            ModelRow.parameters,
        )
        .join(ModelRow, ModelRow.id == TrainingJobRow.model_id)
        .where(TrainingJobRow.id == job_id)
    ).one()
    model_id, attempts, max_attempts, parameters = row
    message = "Model training in progress"
    if attempts > 1:
        message += f" (attempt {attempts} of {max_attempts})"
    update_model_status(session, model_id, ModelStatus.IN_PROGRESS, message)
    return ClaimedJob(job_id, model_id, owner, attempts, max_attempts, parameters)


def _held(job: ClaimedJob) -> Any:
    return and_(
        TrainingJobRow.id == job.job_id,
        TrainingJobRow.lease_owner == job.owner,
        TrainingJobRow.status == JobStatus.RUNNING,
    )


def heartbeat(
    session: Session, job: ClaimedJob, *, lease_seconds: float, progress: str | None = None
) -> bool:
    """Renew the lease; ``False`` if the worker no longer holds it."""
    result = session.execute(
        update(TrainingJobRow)
        .where(_held(job))
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if progress is not None:
        session.execute(
            update(ModelRow)
            .where(ModelRow.id == job.model_id, ModelRow.status == ModelStatus.IN_PROGRESS)
            .values(status_message=progress, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return True


def _finish(session: Session, job: ClaimedJob, status: JobStatus, error: str | None) -> bool:
    result = session.execute(
        update(TrainingJobRow)
        .where(_held(job))
        .values(status=status, finished_at=utcnow(), lease_expires_at=None, last_error=error)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish_succeeded(session: Session, job: ClaimedJob, statistics: dict[str, Any]) -> bool:
    """Mark the job done and the model Completed; ``False`` if the lease was lost.

    On PostgreSQL the job row stays locked until the caller commits, and on
    SQLite the database does, so the caller can publish the artifacts
    before committing without racing a deletion or another worker.
    """
    if not _finish(session, job, JobStatus.SUCCEEDED, None):
        return False
    update_model_status(session, job.model_id, ModelStatus.COMPLETED, COMPLETED_MESSAGE, statistics)
    return True


def finish_failed(
    session: Session, job: ClaimedJob, message: str, statistics: dict[str, Any] | None
) -> bool:
    """Mark the job and its model Failed with ``message``; ``False`` if the lease was lost."""
    if not _finish(session, job, JobStatus.FAILED, message):
        return False
    update_model_status(session, job.model_id, ModelStatus.FAILED, message, statistics)
    return True


def release(session: Session, job: ClaimedJob, reason: str, *, count_attempt: bool) -> bool:
    """Give the job back to the queue (or fail it if it has no attempt left).

    ``count_attempt=False`` (a worker shutting down) does not use up one of
    the job's attempts; a crashed training run does.
    """
    if count_attempt and job.attempt >= job.max_attempts:
        return finish_failed(session, job, _give_up_message(job.attempt, reason), None)
    values: dict[str, Any] = {
        "status": JobStatus.QUEUED,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": reason,
    }
    if not count_attempt:
        values["attempts"] = TrainingJobRow.attempts - 1
    result = session.execute(
        update(TrainingJobRow)
        .where(_held(job))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    update_model_status(
        session, job.model_id, ModelStatus.CREATED, f"Model is queued for training ({reason})"
    )
    return True


def expire_dead_leases(session: Session, host: str, is_dead: Callable[[str], bool]) -> int:
    """End now the leases held by workers of ``host`` that ``is_dead`` says are gone.

    Owners are ``host:pid:name``; a worker restarted on the same machine
    thus retrains (or fails) what its dead predecessor held without waiting
    for the lease to run out. Returns the number of leases ended.
    """
    rows = session.execute(
        select(TrainingJobRow.id, TrainingJobRow.lease_owner).where(
            TrainingJobRow.status == JobStatus.RUNNING,
            TrainingJobRow.lease_owner.like(f"{host}:%"),
        )
    ).all()
    ended = 0
    for job_id, owner in rows:
        if owner is None or not is_dead(owner):
            continue
        result = session.execute(
            update(TrainingJobRow)
            .where(TrainingJobRow.id == job_id, TrainingJobRow.lease_owner == owner)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            .execution_options(synchronize_session=False)
        )
        ended += result.rowcount  # type: ignore[attr-defined]
    return ended


def fail_abandoned(session: Session) -> list[str]:
    """Fail every job whose lease ran out after its last attempt; their model ids."""
    rows = session.execute(
        select(TrainingJobRow.id, TrainingJobRow.model_id, TrainingJobRow.attempts)
        .where(
            TrainingJobRow.status == JobStatus.RUNNING,
            TrainingJobRow.lease_expires_at < utcnow(),
            TrainingJobRow.attempts >= TrainingJobRow.max_attempts,
        )
        .with_for_update(skip_locked=True)
    ).all()
    failed = []
    for job_id, model_id, attempts in rows:
        reason = "the worker training it stopped before finishing (lease expired)"
        message = _give_up_message(attempts, reason)
        session.execute(
            update(TrainingJobRow)
            .where(TrainingJobRow.id == job_id)
            .values(
                status=JobStatus.FAILED,
                finished_at=utcnow(),
                lease_owner=None,
                lease_expires_at=None,
                last_error=message,
            )
            .execution_options(synchronize_session=False)
        )
        update_model_status(
            session, model_id, ModelStatus.FAILED, message, None, keep_statistics=True
        )
        failed.append(model_id)
    return failed


def _give_up_message(attempts: int, reason: str) -> str:
    plural = "attempt" if attempts == 1 else "attempts"
    return f"Model training failed after {attempts} {plural}: {reason}"
