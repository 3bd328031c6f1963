"""What the workers say about themselves, and the job counts ``/metrics`` reports.

Every worker process's scheduler writes a heartbeat row now and then
(:func:`beat`); a worker that stops cleanly removes its row
(:func:`forget_worker`). ``/metrics`` reads them (:func:`read_heartbeats`)
together with the jobs by kind and status (:func:`job_counts`), so the
figures are right whichever process is scraped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, delete, func, select, update
from sqlalchemy.orm import Session

from recostack.store.operations_tables import WorkerHeartbeatRow
from recostack.store.tables import TrainingJobRow, utcnow

__all__ = ["beat", "forget_worker", "job_counts", "read_heartbeats"]


def beat(session: Session, owner: str, host: str, pid: int, started_at: datetime) -> None:
    """Record that the worker ``owner`` is alive now."""
    now = utcnow()
    result = session.execute(
        update(WorkerHeartbeatRow)
        .where(WorkerHeartbeatRow.owner == owner)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(
            WorkerHeartbeatRow(
                owner=owner, host=host, pid=pid, started_at=started_at, last_seen_at=now
            )
        )


def forget_worker(session: Session, owner: str) -> None:
    session.execute(delete(WorkerHeartbeatRow).where(WorkerHeartbeatRow.owner == owner))


def read_heartbeats(connection: Connection) -> list[tuple[str, str, int, datetime]]:
    """(owner, host, pid, last seen) of every worker that reported."""
    rows = connection.execute(
        select(
            WorkerHeartbeatRow.owner,
            WorkerHeartbeatRow.host,
            WorkerHeartbeatRow.pid,
            WorkerHeartbeatRow.last_seen_at,
        ).order_by(WorkerHeartbeatRow.owner)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def job_counts(connection: Connection) -> dict[tuple[str, str], int]:
    """Jobs by (kind, status); every job is a training job where jobs have no kind."""
    table: Table = TrainingJobRow.__table__  # type: ignore[assignment]
    kind = table.c.get("kind")
    if kind is None:
        rows = connection.execute(
            select(table.c.status, func.count()).group_by(table.c.status)
        ).all()
        return {("training", status): int(n) for status, n in rows}
    grouped = connection.execute(
        select(kind, table.c.status, func.count()).group_by(kind, table.c.status)
    ).all()
    return {(k, status): int(n) for k, status, n in grouped}
