"""Jobs: training, batch and campaign jobs with their progress and failures; alerts and
webhooks with their state and delivery log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from recostack.store.batch_tables import BatchJobRow, CampaignRow
from recostack.store.engine import Database
from recostack.store.operations_tables import (
    AlertEventRow,
    AlertRow,
    WebhookDeliveryRow,
    WebhookRow,
)
from recostack.store.tables import JobRow, ModelRow
from recostack.web.auth import User
from recostack.web.page_route import PageRoute
from recostack.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)
SHOWN = 200


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, user: User) -> Response:
    db: Database = request.app.state.db
    with db.transaction() as session:
        jobs = session.execute(
            select(JobRow, ModelRow.status_message)
            .outerjoin(ModelRow, ModelRow.id == JobRow.model_id)
            .order_by(JobRow.id.desc())
            .limit(SHOWN)
        ).all()
        batch_jobs = session.scalars(
            select(BatchJobRow).order_by(BatchJobRow.created_at.desc()).limit(SHOWN)
        ).all()
        campaigns = session.scalars(select(CampaignRow).order_by(CampaignRow.name)).all()
        alerts = session.scalars(select(AlertRow).order_by(AlertRow.deployment_id)).all()
        events = session.scalars(
            select(AlertEventRow).order_by(AlertEventRow.id.desc()).limit(SHOWN)
        ).all()
        webhooks = session.scalars(select(WebhookRow).order_by(WebhookRow.deployment_id)).all()
        deliveries = session.scalars(
            select(WebhookDeliveryRow)
            .order_by(WebhookDeliveryRow.next_attempt_at.desc())
            .limit(SHOWN)
        ).all()
    return render(
        request,
        "jobs.html",
        user,
        jobs=jobs,
        batch_jobs=batch_jobs,
        campaigns=campaigns,
        alerts=alerts,
        events=events,
        webhooks=webhooks,
        deliveries=deliveries,
    )
