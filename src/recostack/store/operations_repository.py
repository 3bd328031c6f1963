"""What is attached to a deployment by name, removed with its last version."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recostack.store.operations_tables import (
    AlertRow,
    RealtimeMonitorRow,
    RefreshPolicyRow,
    ScheduleClaimRow,
    WebhookRow,
)
from recostack.store.statistics_repository import delete_statistics

__all__ = ["forget_deployment"]


def forget_deployment(session: Session, deployment_id: str) -> None:
    """Delete the deployment's webhooks (and deliveries), alerts (and history), refresh
    policies (and their claims), realtime monitor (and results) and statistics."""
    policies = select(RefreshPolicyRow.id).where(RefreshPolicyRow.deployment_id == deployment_id)
    session.execute(
        delete(ScheduleClaimRow).where(
            ScheduleClaimRow.kind == "refresh", ScheduleClaimRow.target_id.in_(policies)
        )
    )
    for table in (WebhookRow, AlertRow, RefreshPolicyRow, RealtimeMonitorRow):
        # one by one through the ORM, so that ON DELETE CASCADE children go on SQLite too
        for row in session.scalars(select(table).where(table.deployment_id == deployment_id)):
            session.delete(row)
    delete_statistics(session.connection(), deployment_id)
