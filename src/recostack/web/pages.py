"""Sign-in, sign-out and the overview page."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from recostack.serving import Serving
from recostack.serving.deployments.records import DeploymentStatus
from recostack.store.deployment_tables import DeploymentRow
from recostack.store.engine import Database
from recostack.store.server_settings import get_default_model_id
from recostack.store.statistics_tables import DeploymentStatisticsRow
from recostack.store.tables import JobRow, ModelRow, utcnow
from recostack.training.status import ModelStatus
from recostack.web.auth import COOKIE, User, check_csrf, sign_in, sign_out
from recostack.web.page_route import PageRoute
from recostack.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return render(request, "login.html", None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, key: Annotated[str, Form(max_length=512)] = "") -> Response:
    opened = sign_in(request, key)
    if opened is None:
        return render(request, "login.html", None, status_code=401, error="That key is not valid.")
    session_id, lifetime = opened
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=int(lifetime),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, user: User, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(user, csrf_token)
    sign_out(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _overview(db: Database, serving: Serving) -> dict[str, Any]:
    since = utcnow() - timedelta(days=1)
    serving.statistics.flush()  # this process's counts too (before a transaction opens)
    with db.transaction() as session:
        models = session.scalar(select(func.count()).select_from(ModelRow)) or 0
        deployments = (
            session.execute(
                select(DeploymentRow).order_by(DeploymentRow.deployment_id, DeploymentRow.id)
            )
            .scalars()
            .all()
        )
        running = (
            session.execute(
                select(JobRow).where(JobRow.status.in_(("queued", "running"))).order_by(JobRow.id)
            )
            .scalars()
            .all()
        )
        failed_models = (
            session.execute(
                select(ModelRow)
                .where(ModelRow.status == ModelStatus.FAILED)
                .order_by(ModelRow.updated_at.desc())
                .limit(5)
            )
            .scalars()
            .all()
        )
        default_id = get_default_model_id(session)
        default = session.get(ModelRow, default_id) if default_id else None
        requests_today = session.scalar(
            select(func.coalesce(func.sum(DeploymentStatisticsRow.requests), 0)).where(
                DeploymentStatisticsRow.granularity == "hour",
                DeploymentStatisticsRow.bucket_start >= since.replace(minute=0, second=0),
            )
        )
    return {
        "models": models,
        "deployments": len({d.deployment_id for d in deployments}),
        "active": [d for d in deployments if d.status == DeploymentStatus.ACTIVE],
        "failed_deployments": [d for d in deployments if d.status == DeploymentStatus.FAILED],
        "running": running,
        "failed_models": failed_models,
        "default": default,
        "requests_today": int(requests_today or 0),
    }


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: User) -> Response:
    state = request.app.state
    return render(request, "overview.html", user, **_overview(state.db, state.serving))
