"""Batch jobs and batch predictions as rows: create, read, list, record a finished chunk.

A chunk is recorded only by the worker that holds the job's lease, in the
same transaction that checks it (:func:`record_chunk`): the offsets and
counts of the store are always those of the output bytes on disk up to the
last chunk a live worker finished.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recostack.errors import NotFound
from recostack.store.batch_tables import BatchJobRow, BatchJobStatus, BatchPredictionRow
from recostack.store.tables import JobRow, JobStatus, utcnow

__all__ = [
    "create_batch_job",
    "create_batch_prediction",
    "due_batch_predictions",
    "get_batch_job",
    "get_batch_prediction",
    "list_batch_jobs",
    "list_batch_predictions",
    "record_chunk",
    "set_lines_total",
]


def create_batch_job(
    session: Session,
    *,
    name: str,
    kind: str,
    output_path: str,
    config: dict[str, Any],
    input_path: str | None,
    model_id: str | None = None,
    deployment_id: str | None = None,
    batch_prediction_id: str | None = None,
    engine: str = "local",
) -> BatchJobRow:
    now = utcnow()
    row = BatchJobRow(
        id=str(uuid.uuid4()),
        name=name,
        kind=kind,
        model_id=model_id,
        deployment_id=deployment_id,
        batch_prediction_id=batch_prediction_id,
        engine=engine,
        config=config,
        input_path=input_path,
        output_path=output_path,
        status=BatchJobStatus.PENDING,
        lines_done=0,
        lines_failed=0,
        chunks_done=0,
        input_offset=0,
        output_offset=0,
        resumed=0,
        run_started_lines=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_batch_job(
    session: Session, job_id: str, field: str = "batchInferenceJobArn"
) -> BatchJobRow:
    row = session.get(BatchJobRow, job_id) if len(job_id) <= 36 else None
    if row is None:
        raise NotFound(f"batch job {job_id!r} does not exist", field=field)
    return row


def list_batch_jobs(
    session: Session,
    *,
    kind: str | None = None,
    batch_prediction_id: str | None = None,
    model_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
    before: datetime | None = None,
) -> list[BatchJobRow]:
    """Newest first."""
    query = select(BatchJobRow).order_by(BatchJobRow.created_at.desc(), BatchJobRow.id.desc())
    if kind is not None:
        query = query.where(BatchJobRow.kind == kind)
    if model_id is not None:
        query = query.where(BatchJobRow.model_id == model_id)
    if batch_prediction_id is not None:
        query = query.where(BatchJobRow.batch_prediction_id == batch_prediction_id)
    if before is not None:
        query = query.where(BatchJobRow.created_at < before)
    return list(session.scalars(query.offset(offset).limit(limit)))


def set_lines_total(session: Session, batch_job_id: str, total: int) -> None:
    session.execute(
        update(BatchJobRow)
        .where(BatchJobRow.id == batch_job_id)
        .values(lines_total=total, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def record_chunk(
    session: Session,
    *,
    job_id: int,
    owner: str,
    batch_job_id: str,
    input_offset: int,
    output_offset: int,
    lines: int,
    failed: int,
) -> bool:
    """Count a finished chunk, if ``owner`` still holds the job's lease (else ``False``).

    On PostgreSQL the job row is locked until the caller commits, so the
    lease cannot change hands between the check and the commit.
    """
    held = session.scalar(
        select(JobRow.id)
        .where(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.status == JobStatus.RUNNING)
        .with_for_update()
    )
    if held is None:
        return False
    session.execute(
        update(BatchJobRow)
        .where(BatchJobRow.id == batch_job_id)
        .values(
            input_offset=input_offset,
            output_offset=output_offset,
            lines_done=BatchJobRow.lines_done + lines,
            lines_failed=BatchJobRow.lines_failed + failed,
            chunks_done=BatchJobRow.chunks_done + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return True


# --- batch predictions --------------------------------------------------------------------


def create_batch_prediction(
    session: Session,
    *,
    deployment_id: str,
    name: str,
    settings: dict[str, Any],
    refresh_schedule: str | None,
    next_run_at: datetime | None,
) -> BatchPredictionRow:
    now = utcnow()
    row = BatchPredictionRow(
        id=str(uuid.uuid4()),
        deployment_id=deployment_id,
        name=name,
        settings=settings,
        refresh_schedule=refresh_schedule,
        next_run_at=next_run_at,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_batch_prediction(session: Session, prediction_id: str) -> BatchPredictionRow:
    row = session.get(BatchPredictionRow, prediction_id) if len(prediction_id) <= 36 else None
    if row is None:
        raise NotFound(
            f"batch prediction {prediction_id!r} does not exist", field="batchPredictionId"
        )
    return row


def list_batch_predictions(session: Session, deployment_id: str) -> Sequence[BatchPredictionRow]:
    return list(
        session.scalars(
            select(BatchPredictionRow)
            .where(BatchPredictionRow.deployment_id == deployment_id)
            .order_by(BatchPredictionRow.created_at)
        )
    )


def due_batch_predictions(session: Session, now: datetime) -> list[BatchPredictionRow]:
    """Batch predictions whose next scheduled run is due, locked for the caller (PostgreSQL:
    rows another worker holds are skipped)."""
    return list(
        session.scalars(
            select(BatchPredictionRow)
            .where(BatchPredictionRow.next_run_at <= now)
            .with_for_update(skip_locked=True)
        )
    )
