"""Campaigns, the managed service's shape, as an adapter over deployments.

A campaign ``<name>`` serves a model through the deployment
``campaign-<name>`` (version 1) of the project ``campaigns``, which the
workers create, update and delete (:mod:`recostack.jobs.campaign_runner`):
create / update / delete answer at once and the campaign's status moves
(CREATE PENDING → CREATE IN_PROGRESS → ACTIVE or CREATE FAILED; DELETE
PENDING → DELETE IN_PROGRESS, then gone). An update, allowed only when
the campaign is ACTIVE or CREATE FAILED, is ``latestCampaignUpdate`` with
its own status; the campaign keeps serving its current model meanwhile.
``minProvisionedTPS`` is recorded, and when a campaign is deployed (and
again after an update) the worker measures the throughput the deployment
sustains in a short warm-up burst through its pipeline; describe shows
both and says when the measured figure is below the minimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recostack.errors import Conflict, NotFound
from recostack.jobs.campaign_status import wire_time
from recostack.jobs.queue import JobKind, enqueue
from recostack.services.batch_jobs import completed_model
from recostack.settings import Settings
from recostack.store.batch_tables import CampaignRow, CampaignStatus
from recostack.store.engine import Database
from recostack.store.tables import utcnow

__all__ = ["CAMPAIGNS_PROJECT", "CampaignService", "campaign_deployment_id"]

CAMPAIGNS_PROJECT = "campaigns"
_BUSY = (
    CampaignStatus.CREATE_PENDING,
    CampaignStatus.CREATE_IN_PROGRESS,
    CampaignStatus.DELETE_PENDING,
    CampaignStatus.DELETE_IN_PROGRESS,
)


def campaign_deployment_id(name: str) -> str:
    return f"campaign-{name}"


def _get(session: Any, name: str) -> CampaignRow:
    row = session.get(CampaignRow, name) if len(name) <= 63 else None
    if row is None:
        raise NotFound(f"campaign {name!r} does not exist", field="campaignArn")
    return row


class CampaignService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def _queue(self, session: Any, name: str) -> None:
        enqueue(session, JobKind.CAMPAIGN, name, max_attempts=self.settings.job_max_attempts)

    def create(
        self,
        name: str,
        model_id: str,
        min_provisioned_tps: int,
        campaign_config: Mapping[str, Any],
    ) -> CampaignRow:
        with self.db.transaction() as session:
            if session.get(CampaignRow, name) is not None:
                raise Conflict(f"campaign {name!r} already exists", field="name")
            model = completed_model(session, model_id, "solutionVersionArn")
            now = utcnow()
            row = CampaignRow(
                name=name,
                model_id=model,
                min_provisioned_tps=min_provisioned_tps,
                campaign_config=dict(campaign_config),
                status=CampaignStatus.CREATE_PENDING,
                deployment_id=campaign_deployment_id(name),
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            self._queue(session, name)
            return row

    def describe(self, name: str) -> CampaignRow:
        with self.db.transaction() as session:
            return _get(session, name)

    def list(self, limit: int = 100, offset: int = 0) -> tuple[list[CampaignRow], int | None]:
        from sqlalchemy import select

        with self.db.transaction() as session:
            rows = list(
                session.scalars(
                    select(CampaignRow)
                    .order_by(CampaignRow.created_at.desc(), CampaignRow.name)
                    .offset(offset)
                    .limit(limit + 1)
                )
            )
        more = len(rows) > limit
        return rows[:limit], (offset + limit if more else None)

    def update(
        self,
        name: str,
        *,
        model_id: str | None,
        min_provisioned_tps: int | None,
        campaign_config: Mapping[str, Any] | None,
    ) -> CampaignRow:
        """Deploy a new model, minimum or config (only ACTIVE or CREATE FAILED: else 409)."""
        with self.db.transaction() as session:
            row = _get(session, name)
            update = row.latest_update or {}
            pending = update.get("status") in (
                CampaignStatus.CREATE_PENDING,
                CampaignStatus.CREATE_IN_PROGRESS,
            )
            if row.status not in (CampaignStatus.ACTIVE, CampaignStatus.CREATE_FAILED) or pending:
                raise Conflict(
                    f"campaign {name!r} is {row.status}"
                    + (" with an update in progress" if pending else "")
                    + ": it can be updated when ACTIVE or CREATE FAILED",
                    field="campaignArn",
                )
            model = (
                row.model_id
                if model_id is None
                else completed_model(session, model_id, "solutionVersionArn")
            )
            values: dict[str, Any] = {
                "solutionVersionArn": model,
                "minProvisionedTPS": (
                    row.min_provisioned_tps if min_provisioned_tps is None else min_provisioned_tps
                ),
                "campaignConfig": (
                    dict(row.campaign_config) if campaign_config is None else dict(campaign_config)
                ),
                "status": CampaignStatus.CREATE_PENDING,
                "failureReason": None,
                "creationDateTime": wire_time(),
                "lastUpdatedDateTime": wire_time(),
            }
            if row.status == CampaignStatus.CREATE_FAILED:
                # nothing serves yet: the update is a new creation with these values
                row.model_id = model
                row.min_provisioned_tps = values["minProvisionedTPS"]
                row.campaign_config = values["campaignConfig"]
                row.status = CampaignStatus.CREATE_PENDING
                row.failure_reason = None
            row.latest_update = values
            row.updated_at = utcnow()
            self._queue(session, name)
            return row

    def delete(self, name: str) -> CampaignRow:
        with self.db.transaction() as session:
            row = _get(session, name)
            if row.status in _BUSY:
                raise Conflict(
                    f"campaign {name!r} is {row.status}: delete it when that is over",
                    field="campaignArn",
                )
            row.status = CampaignStatus.DELETE_PENDING
            row.updated_at = utcnow()
            self._queue(session, name)
            return row
