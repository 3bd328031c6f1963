"""Claims of scheduled runs: one row per (kind, target, due time), taken at most once.

Whoever inserts the row runs that due time; a second insert of the same key
fails on the primary key (on PostgreSQL it waits for the first transaction,
then fails; SQLite's write lock serialises them), so each due time runs
once across any number of worker processes. The caller inserts the claim
in the transaction that does the run's work (or records that it is
starting it), so the claim and the work are stored together or not at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recostack.store.operations_tables import ScheduleClaimRow
from recostack.store.tables import utcnow

__all__ = ["claim_run", "delete_claims_of", "record_outcome"]


def claim_run(session: Session, kind: str, target_id: str, due_at: datetime, owner: str) -> bool:
    """Claim the run of ``target_id`` due at ``due_at``; ``False`` if it was claimed already."""
    try:
        with session.begin_nested():
            session.add(
                ScheduleClaimRow(
                    kind=kind,
                    target_id=target_id,
                    due_at=due_at,
                    claimed_by=owner,
                    claimed_at=utcnow(),
                )
            )
            session.flush()
    except IntegrityError:
        return False
    return True


def record_outcome(
    session: Session, kind: str, target_id: str, due_at: datetime, outcome: str
) -> None:
    session.execute(
        update(ScheduleClaimRow)
        .where(
            ScheduleClaimRow.kind == kind,
            ScheduleClaimRow.target_id == target_id,
            ScheduleClaimRow.due_at == due_at,
        )
        .values(outcome=outcome[:2000])
    )


def delete_claims_of(session: Session, kind: str, target_id: str) -> None:
    session.execute(
        delete(ScheduleClaimRow).where(
            ScheduleClaimRow.kind == kind, ScheduleClaimRow.target_id == target_id
        )
    )
