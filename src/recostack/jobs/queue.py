"""The workers' jobs as rows: enqueue, claim under a lease, heartbeat, finish.

Every job has a kind (:class:`JobKind`: a training, a batch job, a
campaign's deployment) and a subject, the row it works on (the model, the
batch job, the campaign), whose own status follows the job's through the
kind's :class:`SubjectStatus` (a training job's model goes Created →
InProgress → Completed / Failed; a batch job PENDING → IN PROGRESS → ACTIVE
/ CREATE FAILED).

A job is ``queued`` until a worker claims it; the claim sets it
``running``, counts an attempt and gives the worker a lease that it renews
while it works. Every later write by the worker is conditioned on still
holding the lease, so a worker that lost it (it stalled, or the model was
deleted) changes nothing. A job whose lease ran out (its worker died) can
be claimed again until ``max_attempts`` claims have been made; then
:func:`fail_abandoned` marks it and its subject failed with the reason.

Claims are atomic on both databases: ``SELECT ... FOR UPDATE SKIP LOCKED``
on PostgreSQL, one ``UPDATE ... WHERE id = (SELECT ...) RETURNING`` under
SQLite's write lock.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from recostack.jobs.batch_status import BATCH_SUBJECT
from recostack.jobs.campaign_status import CAMPAIGN_SUBJECT
from recostack.store.model_repository import update_model_status
from recostack.store.tables import JobRow, JobStatus, ModelRow, utcnow
from recostack.training.status import ModelStatus

__all__ = [
    "COMPLETED_MESSAGE",
    "ClaimedJob",
    "JobKind",
    "SubjectStatus",
    "claim_next",
    "enqueue",
    "enqueue_training",
    "expire_dead_leases",
    "fail_abandoned",
    "finish_failed",
    "finish_succeeded",
    "heartbeat",
    "release",
]

COMPLETED_MESSAGE = "Model Training Completed Successfully"


class JobKind(StrEnum):
    TRAINING = "training"
    BATCH = "batch"
    CAMPAIGN = "campaign"


@dataclass(frozen=True)
class ClaimedJob:
    """What a worker holds while it works on one job.

    ``subject_id`` is what the job works on; for a training job that is its
    model (``model_id``). ``parameters`` are the model's training parameters
    for a training job, the job's payload for the other kinds.
    """

    job_id: int
    subject_id: str
    owner: str
    attempt: int
    max_attempts: int
    parameters: dict[str, Any]
    kind: str = JobKind.TRAINING

    @property
    def model_id(self) -> str:
        """The model a training job trains (the subject of any job)."""
        return self.subject_id


class SubjectStatus(Protocol):
    """How the status of a kind's subject follows its job (in the job's transaction)."""

    def claimed(self, session: Session, job: ClaimedJob) -> None: ...

    def succeeded(self, session: Session, job: ClaimedJob, statistics: dict[str, Any]) -> None: ...

    def failed(
        self,
        session: Session,
        subject_id: str,
        message: str,
        statistics: dict[str, Any] | None,
        *,
        abandoned: bool = False,
    ) -> None: ...

    def requeued(self, session: Session, job: ClaimedJob, reason: str) -> None: ...

    def give_up_message(self, attempts: int, reason: str) -> str: ...


class _TrainingSubject:
    """A training job's model: InProgress while claimed, then Completed or Failed."""

    def claimed(self, session: Session, job: ClaimedJob) -> None:
        message = "Model training in progress"
        if job.attempt > 1:
            message += f" (attempt {job.attempt} of {job.max_attempts})"
        update_model_status(session, job.subject_id, ModelStatus.IN_PROGRESS, message)

    def succeeded(self, session: Session, job: ClaimedJob, statistics: dict[str, Any]) -> None:
        update_model_status(
            session, job.subject_id, ModelStatus.COMPLETED, COMPLETED_MESSAGE, statistics
        )

    def failed(
        self,
        session: Session,
        subject_id: str,
        message: str,
        statistics: dict[str, Any] | None,
        *,
        abandoned: bool = False,
    ) -> None:
        update_model_status(
            session, subject_id, ModelStatus.FAILED, message, statistics, keep_statistics=abandoned
        )

    def requeued(self, session: Session, job: ClaimedJob, reason: str) -> None:
        update_model_status(
            session, job.subject_id, ModelStatus.CREATED, f"Model is queued for training ({reason})"
        )

    def give_up_message(self, attempts: int, reason: str) -> str:
        plural = "attempt" if attempts == 1 else "attempts"
        return f"Model training failed after {attempts} {plural}: {reason}"


_SUBJECTS: dict[str, SubjectStatus] = {
    JobKind.TRAINING: _TrainingSubject(),
    JobKind.BATCH: BATCH_SUBJECT,
    JobKind.CAMPAIGN: CAMPAIGN_SUBJECT,
}


def enqueue(
    session: Session,
    kind: str,
    subject_id: str,
    *,
    max_attempts: int,
    payload: dict[str, Any] | None = None,
) -> JobRow:
    """Queue a job of ``kind`` on ``subject_id``."""
    if kind not in _SUBJECTS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = JobRow(
        kind=kind,
        subject_id=subject_id,
        model_id=subject_id if kind == JobKind.TRAINING else None,
        payload=payload,
        status=JobStatus.QUEUED,
        attempts=0,
        max_attempts=max_attempts,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def enqueue_training(session: Session, model_id: str, *, max_attempts: int) -> JobRow:
    return enqueue(session, JobKind.TRAINING, model_id, max_attempts=max_attempts)


def claim_next(
    session: Session,
    owner: str,
    *,
    lease_seconds: float,
    kinds: Collection[str] | None = None,
) -> ClaimedJob | None:
    """Claim the oldest claimable job (of ``kinds``, default any) for ``owner``, or ``None``."""
    now = utcnow()
    claimable = or_(
        JobRow.status == JobStatus.QUEUED,
        and_(
            JobRow.status == JobStatus.RUNNING,
            JobRow.lease_expires_at < now,
            JobRow.attempts < JobRow.max_attempts,
        ),
    )
    if kinds is not None:
        claimable = and_(claimable, JobRow.kind.in_(list(kinds)))
    oldest = select(JobRow.id).where(claimable).order_by(JobRow.created_at, JobRow.id).limit(1)
    claim = update(JobRow).values(
        status=JobStatus.RUNNING,
        lease_owner=owner,
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        attempts=JobRow.attempts + 1,
        started_at=now,
    )
    if session.get_bind().dialect.name == "postgresql":
        job_id = session.scalar(oldest.with_for_update(skip_locked=True))
        if job_id is None:
            return None
        session.execute(claim.where(JobRow.id == job_id))
    else:
        job_id = session.scalar(
            claim.where(JobRow.id == oldest.scalar_subquery(), claimable)
            .returning(JobRow.id)
            .execution_options(synchronize_session=False)
        )
        if job_id is None:
            return None
    row = session.execute(
        select(
            JobRow.kind,
            JobRow.subject_id,
            JobRow.attempts,
            JobRow.max_attempts,
            JobRow.payload,
            ModelRow.parameters,
        )
        .outerjoin(ModelRow, ModelRow.id == JobRow.model_id)
        .where(JobRow.id == job_id)
    ).one()
    kind, subject_id, attempts, max_attempts, payload, model_parameters = row
    parameters = model_parameters if kind == JobKind.TRAINING else payload
    job = ClaimedJob(
        job_id, subject_id, owner, attempts, max_attempts, dict(parameters or {}), kind
    )
    _SUBJECTS[kind].claimed(session, job)
    return job


def _held(job: ClaimedJob) -> Any:
    return and_(
        JobRow.id == job.job_id,
        JobRow.lease_owner == job.owner,
        JobRow.status == JobStatus.RUNNING,
    )


def heartbeat(
    session: Session, job: ClaimedJob, *, lease_seconds: float, progress: str | None = None
) -> bool:
    """Renew the lease; ``False`` if the worker no longer holds it."""
    result = session.execute(
        update(JobRow)
        .where(_held(job))
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    if progress is not None and job.kind == JobKind.TRAINING:
        session.execute(
            update(ModelRow)
            .where(ModelRow.id == job.model_id, ModelRow.status == ModelStatus.IN_PROGRESS)
            .values(status_message=progress, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return True


def _finish(session: Session, job: ClaimedJob, status: JobStatus, error: str | None) -> bool:
    result = session.execute(
        update(JobRow)
        .where(_held(job))
        .values(status=status, finished_at=utcnow(), lease_expires_at=None, last_error=error)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish_succeeded(session: Session, job: ClaimedJob, statistics: dict[str, Any]) -> bool:
    """Mark the job done and its subject done (a model Completed); ``False`` if the lease
    was lost.

    On PostgreSQL the job row stays locked until the caller commits, and on
    SQLite the database does, so the caller can publish the artifacts
    before committing without racing a deletion or another worker.
    """
    if not _finish(session, job, JobStatus.SUCCEEDED, None):
        return False
    _SUBJECTS[job.kind].succeeded(session, job, statistics)
    return True


def finish_failed(
    session: Session, job: ClaimedJob, message: str, statistics: dict[str, Any] | None
) -> bool:
    """Mark the job and its subject failed with ``message``; ``False`` if the lease was lost."""
    if not _finish(session, job, JobStatus.FAILED, message):
        return False
    _SUBJECTS[job.kind].failed(session, job.subject_id, message, statistics)
    return True


def release(session: Session, job: ClaimedJob, reason: str, *, count_attempt: bool) -> bool:
    """Give the job back to the queue (or fail it if it has no attempt left).

    ``count_attempt=False`` (a worker shutting down) does not use up one of
    the job's attempts; a crashed training run does.
    """
    subject = _SUBJECTS[job.kind]
    if count_attempt and job.attempt >= job.max_attempts:
        return finish_failed(session, job, subject.give_up_message(job.attempt, reason), None)
    values: dict[str, Any] = {
        "status": JobStatus.QUEUED,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": reason,
    }
    if not count_attempt:
        values["attempts"] = JobRow.attempts - 1
    result = session.execute(
        update(JobRow)
        .where(_held(job))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    subject.requeued(session, job, reason)
    return True


def expire_dead_leases(session: Session, host: str, is_dead: Callable[[str], bool]) -> int:
    """End now the leases held by workers of ``host`` that ``is_dead`` says are gone.

    Owners are ``host:pid:name``; a worker restarted on the same machine
    thus takes up again (or fails) what its dead predecessor held without waiting
    for the lease to run out. Returns the number of leases ended.
    """
    rows = session.execute(
        select(JobRow.id, JobRow.lease_owner).where(
            JobRow.status == JobStatus.RUNNING,
            JobRow.lease_owner.like(f"{host}:%"),
        )
    ).all()
    ended = 0
    for job_id, owner in rows:
        if owner is None or not is_dead(owner):
            continue
        result = session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.lease_owner == owner)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            .execution_options(synchronize_session=False)
        )
        ended += result.rowcount  # type: ignore[attr-defined]
    return ended


def fail_abandoned(session: Session) -> list[str]:
    """Fail every job whose lease ran out after its last attempt; their subjects' ids."""
    rows = session.execute(
        select(JobRow.id, JobRow.kind, JobRow.subject_id, JobRow.attempts)
        .where(
            JobRow.status == JobStatus.RUNNING,
            JobRow.lease_expires_at < utcnow(),
            JobRow.attempts >= JobRow.max_attempts,
        )
        .with_for_update(skip_locked=True)
    ).all()
    failed = []
    for job_id, kind, subject_id, attempts in rows:
        subject = _SUBJECTS[kind]
        reason = "the worker running it stopped before finishing (lease expired)"
        message = subject.give_up_message(attempts, reason)
        session.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(
                status=JobStatus.FAILED,
                finished_at=utcnow(),
                lease_owner=None,
                lease_expires_at=None,
                last_error=message,
            )
            .execution_options(synchronize_session=False)
        )
        subject.failed(session, subject_id, message, None, abandoned=True)
        failed.append(subject_id)
    return failed
