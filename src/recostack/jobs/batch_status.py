"""How a batch job's status follows its job in the queue.

PENDING while queued (again, when a stopping worker gives it back), IN
PROGRESS once claimed (a claim of a job that had finished chunks already
counts as a resume), ACTIVE when its output is complete, CREATE FAILED with
the reason otherwise. A job through a deployment (a batch prediction's run)
that ends, either way, tells the deployment's ``BATCH_DONE`` webhooks, in
the transaction that records the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from recostack.store.batch_tables import BatchJobRow, BatchJobStatus
from recostack.store.tables import utcnow
from recostack.store.webhook_repository import enqueue_event

if TYPE_CHECKING:
    from recostack.jobs.queue import ClaimedJob

__all__ = ["BATCH_SUBJECT"]


def _batch_done(session: Session, row: BatchJobRow) -> None:
    if row.deployment_id is None:
        return
    enqueue_event(
        session,
        row.deployment_id,
        "BATCH_DONE",
        {
            "batchJobId": row.id,
            "batchPredictionId": row.batch_prediction_id,
            "name": row.name,
            "status": row.status,
            "failureReason": row.failure_reason,
            "linesDone": row.lines_done,
            "linesFailed": row.lines_failed,
            "output": row.output_path,
        },
    )


class _BatchSubject:
    def claimed(self, session: Session, job: ClaimedJob) -> None:
        row = session.get(BatchJobRow, job.subject_id)
        if row is None:
            return
        if row.chunks_done > 0:
            row.resumed += 1
        row.status = BatchJobStatus.IN_PROGRESS
        row.started_at = utcnow()  # the current run's start: describe's rate
        row.run_started_lines = row.lines_done
        row.updated_at = utcnow()

    def succeeded(self, session: Session, job: ClaimedJob, statistics: dict[str, Any]) -> None:
        row = session.get(BatchJobRow, job.subject_id)
        if row is None:
            return
        row.status = BatchJobStatus.ACTIVE
        row.failure_reason = None
        row.finished_at = row.updated_at = utcnow()
        _batch_done(session, row)

    def failed(
        self,
        session: Session,
        subject_id: str,
        message: str,
        statistics: dict[str, Any] | None,
        *,
        abandoned: bool = False,
    ) -> None:
        row = session.get(BatchJobRow, subject_id)
        if row is None:
            return
        row.status = BatchJobStatus.CREATE_FAILED
        row.failure_reason = message
        row.finished_at = row.updated_at = utcnow()
        _batch_done(session, row)

    def requeued(self, session: Session, job: ClaimedJob, reason: str) -> None:
        row = session.get(BatchJobRow, job.subject_id)
        if row is not None:
            row.status = BatchJobStatus.PENDING
            row.updated_at = utcnow()

    def give_up_message(self, attempts: int, reason: str) -> str:
        plural = "attempt" if attempts == 1 else "attempts"
        return f"the batch job failed after {attempts} {plural}: {reason}"


BATCH_SUBJECT = _BatchSubject()
