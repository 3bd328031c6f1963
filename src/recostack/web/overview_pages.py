"""The overview: counts, the default model, active deployments, running jobs and what went
wrong lately (failed trainings, deployments and batch jobs, failed requests, firing alerts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from recostack.serving import Serving
from recostack.serving.deployments.records import DeploymentStatus
from recostack.store.batch_tables import BatchJobRow, BatchJobStatus
from recostack.store.deployment_tables import DeploymentRow
from recostack.store.engine import Database
from recostack.store.operations_tables import AlertRow
from recostack.store.server_settings import get_default_model_id
from recostack.store.statistics_tables import DeploymentStatisticsRow
from recostack.store.tables import JobRow, ModelRow, utcnow
from recostack.training.status import ModelStatus
from recostack.web.auth import User
from recostack.web.page_route import PageRoute
from recostack.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)
#: failures of each kind listed
RECENT = 5


def _overview(db: Database, serving: Serving) -> dict[str, Any]:
    since = (utcnow() - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    serving.statistics.flush()  # this process's counts too (before a transaction opens)
    last_day = (
        DeploymentStatisticsRow.granularity == "hour",
        DeploymentStatisticsRow.bucket_start >= since,
    )
    with db.transaction() as session:
        models = session.scalar(select(func.count()).select_from(ModelRow)) or 0
        deployments = session.scalars(
            select(DeploymentRow).order_by(DeploymentRow.deployment_id, DeploymentRow.id)
        ).all()
        running = session.scalars(
            select(JobRow).where(JobRow.status.in_(("queued", "running"))).order_by(JobRow.id)
        ).all()
        failed_models = session.scalars(
            select(ModelRow)
            .where(ModelRow.status == ModelStatus.FAILED)
            .order_by(ModelRow.updated_at.desc())
            .limit(RECENT)
        ).all()
        failed_batches = session.scalars(
            select(BatchJobRow)
            .where(BatchJobRow.status == BatchJobStatus.CREATE_FAILED)
            .order_by(BatchJobRow.updated_at.desc())
            .limit(RECENT)
        ).all()
        failed_requests = session.execute(
            select(
                DeploymentStatisticsRow.deployment_id,
                func.sum(DeploymentStatisticsRow.errors_4xx),
                func.sum(DeploymentStatisticsRow.errors_5xx),
            )
            .where(*last_day)
            .group_by(DeploymentStatisticsRow.deployment_id)
            .having(
                func.sum(DeploymentStatisticsRow.errors_4xx + DeploymentStatisticsRow.errors_5xx)
                > 0
            )
            .order_by(DeploymentStatisticsRow.deployment_id)
        ).all()
        firing = session.scalars(
            select(AlertRow).where(AlertRow.state == "FIRING").order_by(AlertRow.state_since)
        ).all()
        default_id = get_default_model_id(session)
        default = session.get(ModelRow, default_id) if default_id else None
        requests_today = session.scalar(
            select(func.coalesce(func.sum(DeploymentStatisticsRow.requests), 0)).where(*last_day)
        )
    return {
        "models": models,
        "deployments": len({d.deployment_id for d in deployments}),
        "active": [d for d in deployments if d.status == DeploymentStatus.ACTIVE],
        "failed_deployments": [d for d in deployments if d.status == DeploymentStatus.FAILED],
        "running": running,
        "failed_models": failed_models,
        "failed_batches": failed_batches,
        "failed_requests": [(d, int(c4 or 0), int(c5 or 0)) for d, c4, c5 in failed_requests],
        "firing": firing,
        "default": default,
        "requests_today": int(requests_today or 0),
    }


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: User) -> Response:
    state = request.app.state
    return render(request, "overview.html", user, **_overview(state.db, state.serving))
