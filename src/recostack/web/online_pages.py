"""Online learning: each configuration's arms per segment (alpha, beta, propensity, the
Beta densities drawn) and, for a deployment using it, the exploration share over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from scipy.stats import beta as beta_distribution

from recostack.services.online_learning import OnlineLearningService
from recostack.web.auth import User
from recostack.web.page_route import PageRoute
from recostack.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)
#: points of a drawn density, arms drawn per segment, hours of the exploration chart
GRID, MAX_DRAWN, HOURS = 101, 12, 24


@router.get("/online-learning", response_class=HTMLResponse)
def configurations_page(request: Request, user: User) -> Response:
    service: OnlineLearningService = request.app.state.online_learning
    return render(request, "online_learning.html", user, configurations=service.list_all())


def _densities(arms: list[dict[str, Any]]) -> dict[str, Any]:
    """The Beta(alpha, beta) density of each arm on a grid of [0, 1], as chart series."""
    grid = np.linspace(0.0, 1.0, GRID)
    series = {}
    for arm in arms[:MAX_DRAWN]:
        pdf = beta_distribution.pdf(grid, arm["alpha"], arm["beta"])
        series[arm["offer"]] = [
            {"x": round(float(x), 3), "y": round(float(y), 4)}
            for x, y in zip(grid, np.nan_to_num(pdf, posinf=0.0), strict=True)
        ]
    return {"x": "take-up probability", "series": series}


def _exploration(service: OnlineLearningService, deployment_id: str) -> dict[str, Any]:
    """The share of answers that explored, hour by hour over the last day."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    points = []
    for hours_back in range(HOURS, 0, -1):
        start = now - timedelta(hours=hours_back)
        report = service.exploration_report(deployment_id, start, start + timedelta(hours=1))
        if report["answers"]:
            points.append(
                {"x": start.timestamp(), "y": round(100 * report["exploredAnswerShare"], 2)}
            )
    return {"x": "time", "series": {"explored answers (%)": points}}


@router.get("/online-learning/{config_id}", response_class=HTMLResponse)
def configuration_page(
    request: Request,
    config_id: str,
    user: User,
    segment: Annotated[str | None, Query(max_length=255)] = None,
    deployment: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    service: OnlineLearningService = request.app.state.online_learning
    configuration = service.get(config_id)
    arms = service.arms(config_id)
    segments = sorted({a["segment"] for a in arms})
    chosen = segment if segment in segments else (segments[0] if segments else None)
    shown = [a for a in arms if a["segment"] == chosen]
    return render(
        request,
        "online_learning_config.html",
        user,
        configuration=configuration,
        segments=segments,
        segment=chosen,
        arms=shown,
        density_chart=_densities(shown),
        deployment=deployment,
        exploration_chart=_exploration(service, deployment) if deployment else None,
    )
