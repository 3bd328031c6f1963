"""Scenarios: each recommendation type's graph drawn, a scenario's JSON edited with the
store's validation errors shown in place (a cycle is refused with its path), and the A/B
tests."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from recostack.errors import RecostackError
from recostack.evaluation.proportions import wilson_interval
from recostack.rules import RECO_TYPES, dump_scenario, parse_scenario
from recostack.store.engine import Database
from recostack.store.prediction_log_repository import ab_test_outcomes
from recostack.store.scenario_repository import ScenarioStore
from recostack.store.tables import utcnow
from recostack.web.auth import AdminUser, User, check_csrf
from recostack.web.page_route import PageRoute
from recostack.web.scenario_graph import scenario_svg
from recostack.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)
#: the days of answers the A/B outcomes count
AB_DAYS = 7


@router.get("/scenarios", response_class=HTMLResponse)
def scenarios_page(request: Request, user: User) -> Response:
    store: ScenarioStore = request.app.state.scenario_store
    types = []
    for reco_type in RECO_TYPES:
        stored = store.list_scenarios(reco_type)
        try:
            default = store.get_default(reco_type)
        except RecostackError:
            default = None
        graph = scenario_svg({s.name: s.scenario for s in stored}, f"{reco_type} scenarios")
        types.append(
            {"reco_type": reco_type, "scenarios": stored, "default": default, "svg": Markup(graph)}
        )
    return render(
        request,
        "scenarios.html",
        user,
        types=types,
        ab_tests=store.list_ab_tests(),
        outcomes=_ab_outcomes(request.app.state.db),
        days=AB_DAYS,
    )


def _ab_outcomes(db: Database) -> list[dict[str, object]]:
    """Per A/B test and group, the deployments' answers of the last days, how many were
    taken up, and the take-up rate's 95 % Wilson interval."""
    with db.engine.connect() as connection:
        rows = ab_test_outcomes(connection, utcnow() - timedelta(days=AB_DAYS))
    outcomes = []
    for test_id, group, answers, taken in rows:
        low, high = wilson_interval(taken, answers)
        outcomes.append(
            {
                "test": test_id,
                "group": group,
                "answers": answers,
                "taken": taken,
                "rate": taken / answers if answers else 0.0,
                "low": low,
                "high": high,
            }
        )
    return outcomes


@router.get("/scenarios/edit")
def edit_named(
    user: User,
    reco_type: Annotated[str, Query(max_length=32)],
    name: Annotated[str, Query(min_length=1, max_length=256)],
) -> Response:
    """The "edit a scenario by name" form's target."""
    return RedirectResponse(f"/scenarios/{reco_type}/{quote(name, safe='')}", status_code=303)


@router.get("/scenarios/{reco_type}/{name}", response_class=HTMLResponse)
def scenario_page(request: Request, reco_type: str, name: str, user: User) -> Response:
    store: ScenarioStore = request.app.state.scenario_store
    try:
        body = json.dumps(dump_scenario(store.get_scenario(reco_type, name).scenario), indent=2)
    except RecostackError:
        body = json.dumps({"scenario_type": "case", "case": {"filters": []}}, indent=2)
    return render(
        request, "scenario_edit.html", user, reco_type=reco_type, name=name, body=body, error=None
    )


@router.post("/scenarios/{reco_type}/{name}", response_class=HTMLResponse)
def save_scenario(
    request: Request,
    reco_type: str,
    name: str,
    user: AdminUser,
    body: Annotated[str, Form(max_length=100_000)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(user, csrf_token)
    store: ScenarioStore = request.app.state.scenario_store
    try:
        store.put_scenario(reco_type, name, parse_scenario(body))
    except RecostackError as error:
        return render(
            request,
            "scenario_edit.html",
            user,
            status_code=error.status_code,
            reco_type=reco_type,
            name=name,
            body=body,
            error=error.message,
        )
    return RedirectResponse("/scenarios", status_code=303)
