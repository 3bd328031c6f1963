"""How a campaign's status follows the job that deploys, updates or deletes it.

The campaign row says which of the three the job is doing: DELETE PENDING /
DELETE IN_PROGRESS is a deletion; a ``latestCampaignUpdate`` whose status is
CREATE PENDING / CREATE IN_PROGRESS is an update; anything else is the
creation. A creation goes CREATE PENDING → CREATE IN_PROGRESS → ACTIVE or
CREATE FAILED; an update moves the update's own status the same way (the
campaign stays ACTIVE meanwhile); a failed deletion leaves the campaign as it
was, with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from recostack.store.batch_tables import CampaignRow, CampaignStatus
from recostack.store.tables import utcnow

if TYPE_CHECKING:
    from recostack.jobs.queue import ClaimedJob

__all__ = ["CAMPAIGN_SUBJECT", "campaign_action", "wire_time"]

_DELETING = (CampaignStatus.DELETE_PENDING, CampaignStatus.DELETE_IN_PROGRESS)
_UPDATING = (CampaignStatus.CREATE_PENDING, CampaignStatus.CREATE_IN_PROGRESS)


def wire_time() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def campaign_action(row: CampaignRow) -> str:
    """``delete``, ``update`` or ``create``: what the campaign's job is doing."""
    if row.status in _DELETING:
        return "delete"
    update = row.latest_update or {}
    if update.get("status") in _UPDATING and row.status == CampaignStatus.ACTIVE:
        return "update"
    return "create"


def _set_update_status(row: CampaignRow, status: str, reason: str | None = None) -> None:
    update = dict(row.latest_update or {})
    update["status"] = status
    update["failureReason"] = reason
    update["lastUpdatedDateTime"] = wire_time()
    row.latest_update = update


class _CampaignSubject:
    def claimed(self, session: Session, job: ClaimedJob) -> None:
        row = session.get(CampaignRow, job.subject_id)
        if row is None:
            return
        action = campaign_action(row)
        if action == "delete":
            row.status = CampaignStatus.DELETE_IN_PROGRESS
        elif action == "update":
            _set_update_status(row, CampaignStatus.CREATE_IN_PROGRESS)
        else:
            row.status = CampaignStatus.CREATE_IN_PROGRESS
            if row.latest_update is not None:  # an update of a campaign that failed
                _set_update_status(row, CampaignStatus.CREATE_IN_PROGRESS)
        row.updated_at = utcnow()

    def succeeded(self, session: Session, job: ClaimedJob, statistics: dict[str, Any]) -> None:
        row = session.get(CampaignRow, job.subject_id)
        if row is None:  # deleted
            return
        if row.latest_update is not None:
            _set_update_status(row, CampaignStatus.ACTIVE)
        row.status = CampaignStatus.ACTIVE
        row.failure_reason = None
        row.updated_at = utcnow()

    def failed(
        self,
        session: Session,
        subject_id: str,
        message: str,
        statistics: dict[str, Any] | None,
        *,
        abandoned: bool = False,
    ) -> None:
        row = session.get(CampaignRow, subject_id)
        if row is None:
            return
        action = campaign_action(row)
        if action == "update":
            _set_update_status(row, CampaignStatus.CREATE_FAILED, message)
        elif action == "delete":
            row.status = (
                CampaignStatus.ACTIVE
                if row.measured_tps is not None
                else (CampaignStatus.CREATE_FAILED)
            )
            row.failure_reason = f"deletion failed: {message}"
        else:
            row.status = CampaignStatus.CREATE_FAILED
            row.failure_reason = message
            if row.latest_update is not None:
                _set_update_status(row, CampaignStatus.CREATE_FAILED, message)
        row.updated_at = utcnow()

    def requeued(self, session: Session, job: ClaimedJob, reason: str) -> None:
        row = session.get(CampaignRow, job.subject_id)
        if row is None:
            return
        action = campaign_action(row)
        if action == "delete":
            row.status = CampaignStatus.DELETE_PENDING
        elif action == "update":
            _set_update_status(row, CampaignStatus.CREATE_PENDING)
        else:
            row.status = CampaignStatus.CREATE_PENDING
        row.updated_at = utcnow()

    def give_up_message(self, attempts: int, reason: str) -> str:
        plural = "attempt" if attempts == 1 else "attempts"
        return f"the campaign's deployment failed after {attempts} {plural}: {reason}"


CAMPAIGN_SUBJECT = _CampaignSubject()
