"""Deployments: the list, one deployment (status, version history with promote and
rollback, live charts of its statistics, the prediction-log browser)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from recostack.errors import RecostackError
from recostack.services.deployment_logs import DeploymentLogs
from recostack.services.deployments import DeploymentService
from recostack.services.statistics import statistics_over_time
from recostack.store.deployment_tables import DeploymentRow
from recostack.store.engine import Database
from recostack.store.tables import ModelRow
from recostack.training.status import ModelStatus
from recostack.web.auth import AdminUser, User, check_csrf
from recostack.web.page_route import PageRoute
from recostack.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)
#: ranges the charts offer
RANGES = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}
LOG_PAGE = 25


@router.get("/deployments", response_class=HTMLResponse)
def deployments_page(request: Request, user: User) -> Response:
    db: Database = request.app.state.db
    with db.transaction() as session:
        rows = session.scalars(
            select(DeploymentRow).order_by(DeploymentRow.deployment_id, DeploymentRow.id)
        ).all()
    return render(request, "deployments.html", user, deployments=rows)


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _completed_models(db: Database) -> list[tuple[str, str | None]]:
    """(id, description) of the models a deployment can be promoted to, newest first."""
    with db.transaction() as session:
        rows = session.execute(
            select(ModelRow.id, ModelRow.description)
            .where(ModelRow.status == ModelStatus.COMPLETED)
            .order_by(ModelRow.creation_time.desc())
        )
        return [(model_id, description) for model_id, description in rows]


@router.get("/deployments/{deployment_id}", response_class=HTMLResponse)
def deployment_page(
    request: Request,
    deployment_id: str,
    user: User,
    last_request_id: Annotated[str | None, Query(max_length=36)] = None,
    last_timestamp: Annotated[datetime | None, Query()] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    state = request.app.state
    service: DeploymentService = state.deployment_service
    logs: DeploymentLogs = state.deployment_logs
    view = service.describe(deployment_id)
    records = logs.page(
        "predictions",
        deployment_id,
        limit=LOG_PAGE,
        last_id=last_request_id,
        last_time=_utc(last_timestamp),
    )
    return render(
        request,
        "deployment.html",
        user,
        view=view,
        row=view.row,
        models=_completed_models(state.db) if user.is_admin else [],
        records=records,
        next_page=records[-1] if len(records) == LOG_PAGE else None,
        ranges=list(RANGES),
        error=error,
    )


@router.get("/deployments/{deployment_id}/charts.json")
def deployment_charts(
    request: Request,
    deployment_id: str,
    user: User,
    span: Annotated[str, Query(pattern="^(1h|24h|7d)$")] = "1h",
) -> JSONResponse:
    """The series the page's live charts draw (polled by the page)."""
    state = request.app.state
    end = datetime.now(UTC)
    stats = statistics_over_time(state.db, state.serving, deployment_id, end - RANGES[span], end)
    intervals = stats.to_wire()["intervals"]
    times = [
        datetime.fromisoformat(i["start"].replace("Z", "+00:00")).timestamp() for i in intervals
    ]
    return JSONResponse(
        {
            "x": times,
            "requests": [i["requests"] for i in intervals],
            "errors": [i["errors"] for i in intervals],
            "p50": [i["latencyP50Ms"] for i in intervals],
            "p95": [i["latencyP95Ms"] for i in intervals],
            "p99": [i["latencyP99Ms"] for i in intervals],
            "takeUpRate": [i["takeUpRate"] for i in intervals],
        },
        headers={"Cache-Control": "no-store"},
    )


def _act(request: Request, deployment_id: str, action: Any) -> Response:
    try:
        action()
    except RecostackError as error:
        return RedirectResponse(
            request.url_for("deployment_page", deployment_id=deployment_id).include_query_params(
                error=error.message[:500]
            ),
            status_code=303,
        )
    return RedirectResponse(f"/deployments/{deployment_id}", status_code=303)


@router.post("/deployments/{deployment_id}/promote")
def promote(
    request: Request,
    deployment_id: str,
    user: AdminUser,
    model_version: Annotated[str, Form(max_length=64)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(user, csrf_token)
    service: DeploymentService = request.app.state.deployment_service
    return _act(
        request, deployment_id, lambda: service.set_model_version(deployment_id, model_version)
    )


@router.post("/deployments/{deployment_id}/rollback")
def rollback(
    request: Request, deployment_id: str, user: AdminUser, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(user, csrf_token)
    service: DeploymentService = request.app.state.deployment_service
    return _act(request, deployment_id, lambda: service.rollback(deployment_id))


@router.post("/deployments/{deployment_id}/{action}")
def start_or_stop(
    request: Request,
    deployment_id: str,
    action: str,
    user: AdminUser,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(user, csrf_token)
    service: DeploymentService = request.app.state.deployment_service
    if action not in ("start", "stop"):
        return RedirectResponse(f"/deployments/{deployment_id}", status_code=303)
    run = service.start if action == "start" else service.stop
    return _act(request, deployment_id, lambda: run(deployment_id))
