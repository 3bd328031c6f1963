"""Models: the list, one model (parameters, parsing reports, evaluation charts, feature
weights, a try-it form) and training a model from uploaded files."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from recostack.api.inputs import MAX_EVENTS
from recostack.data.ids import MAX_ITEM_ID_LENGTH
from recostack.errors import RecostackError
from recostack.jobs.training import submit_training
from recostack.rules import RuleOptions
from recostack.serving import RecommendRequest, Serving
from recostack.settings import Settings
from recostack.store import files
from recostack.store.engine import Database
from recostack.store.model_repository import get_model
from recostack.store.server_settings import get_default_model_id, set_default_model_id
from recostack.store.tables import ModelRow
from recostack.training.status import ModelStatus
from recostack.training.trained_model import UsageEvent
from recostack.web.auth import AdminUser, User, check_csrf
from recostack.web.page_route import PageRoute
from recostack.web.templating import render
from recostack.web.training_form import form_fields, parse_form

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)
_UPLOAD_CHUNK = 1 << 20
_FINAL = (ModelStatus.COMPLETED, ModelStatus.FAILED)


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, user: User) -> Response:
    db: Database = request.app.state.db
    with db.transaction() as session:
        rows = session.execute(
            select(
                ModelRow.id,
                ModelRow.description,
                ModelRow.status,
                ModelRow.parameters,
                ModelRow.creation_time,
            ).order_by(ModelRow.creation_time.desc())
        ).all()
        default_id = get_default_model_id(session)
    return render(request, "models.html", user, models=rows, default_id=default_id)


@router.get("/models/new", response_class=HTMLResponse)
def new_model_page(request: Request, user: AdminUser) -> Response:
    return render(request, "model_new.html", user, fields=form_fields(), values={}, errors={})


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(_UPLOAD_CHUNK):
        yield chunk


@router.post("/models/new", response_class=HTMLResponse)
async def train_model(request: Request, user: AdminUser) -> Response:
    form = await request.form()
    check_csrf(user, str(form.get("csrf_token") or ""))
    settings: Settings = request.app.state.settings
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    uploads = {
        name: upload
        for name in ("usage", "catalog", "evaluation")
        if isinstance(upload := form.get(name), UploadFile) and upload.filename
    }
    errors: dict[str, str] = {}
    if "usage" not in uploads:
        errors["usage"] = "choose a usage file"
    container = f"dashboard-{uuid.uuid4().hex[:12]}"
    paths: dict[str, str] = {"blobContainerName": container, "usageRelativePath": "usage.csv"}
    wire = {
        "catalog": "catalogFileRelativePath",
        "evaluation": "evaluationUsageRelativePath",
    }
    params, problems = parse_form(
        values, {**paths, **{wire[n]: f"{n}.csv" for n in wire if n in uploads}}
    )
    errors.update(problems)
    if errors or params is None:
        return render(
            request,
            "model_new.html",
            user,
            status_code=400,
            fields=form_fields(),
            values=values,
            errors=errors,
        )
    for name, upload in uploads.items():
        await files.save_stream(
            settings.files_dir,
            container,
            f"{name}.csv",
            _chunks(upload),
            max_bytes=settings.max_upload_bytes,
        )
    db: Database = request.app.state.db
    with db.transaction() as session:
        row = submit_training(
            session, params, files_root=settings.files_dir, max_attempts=settings.job_max_attempts
        )
        model_id = row.id
    return RedirectResponse(f"/models/{model_id}", status_code=303)


def _model_view(db: Database, model_id: str) -> dict[str, Any]:
    with db.transaction() as session:
        row = get_model(session, model_id)
        default_id = get_default_model_id(session)
    stats: dict[str, Any] = row.statistics or {}
    metrics = (stats.get("evaluation") or {}).get("metrics") or {}
    precision = [
        {"x": p["k"], "y": round(p["percentage"], 3)} for p in metrics.get("precisionMetrics", [])
    ]
    ndcg = [{"x": p["k"], "y": round(100 * p["value"], 3)} for p in metrics.get("ndcgMetrics", [])]
    buckets = (metrics.get("diversityMetrics") or {}).get("percentileBuckets", [])
    reports = {
        "catalog": stats.get("catalogParsing"),
        "usage events": stats.get("usageEventsParsing"),
        "evaluation events": (stats.get("evaluation") or {}).get("usageEventsParsing"),
    }
    return {
        "model": row,
        "is_default": row.id == default_id,
        "final": row.status in _FINAL,
        "parameters": row.parameters or {},
        "reports": {name: report for name, report in reports.items() if report},
        "precision_chart": {"x": "k", "series": {"precision@k (%)": precision, "nDCG@k (%)": ndcg}},
        "diversity": buckets,
        "diversity_chart": {
            "kind": "bars",
            "labels": [f"{b['min']}–{b['max']}" for b in buckets],
            "values": [b["percentage"] for b in buckets],
        },
        "feature_weights": stats.get("catalogFeatureWeights") or {},
        "search": stats.get("hyperparameterSearch"),
        "statistics": stats,
    }


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_page(request: Request, model_id: str, user: User) -> Response:
    return render(request, "model.html", user, **_model_view(request.app.state.db, model_id))


@router.get("/models/{model_id}/status", response_class=HTMLResponse)
def model_status(request: Request, model_id: str, user: User) -> Response:
    """The status line, polled by the page until the model is Completed or Failed."""
    view = _model_view(request.app.state.db, model_id)
    response = render(request, "model_status.html", user, **view)
    if view["final"]:
        response.headers["HX-Refresh"] = "true"  # the page then shows the results
    return response


def _refused_events(used: list[UsageEvent]) -> str | None:
    """What is wrong with the items used of the try-it form (the recommend API's limits)."""
    if len(used) > MAX_EVENTS:
        return f"at most {MAX_EVENTS} items used, got {len(used)}"
    for event in used:
        if len(event.item_id) > MAX_ITEM_ID_LENGTH:
            return (
                f"item id {event.item_id[:40]!r}... has more than {MAX_ITEM_ID_LENGTH} characters"
            )
    return None


@router.post("/models/{model_id}/try", response_class=HTMLResponse)
async def try_model(
    request: Request,
    model_id: str,
    user: User,
    item_id: Annotated[str, Form(max_length=MAX_ITEM_ID_LENGTH)] = "",
    events: Annotated[str, Form(max_length=20_000)] = "",
    count: Annotated[int, Form(ge=1, le=100)] = 10,
) -> Response:
    """Recommendations of the model: next to an item, or for a few items used (no change is
    made, so a read-only session may try too)."""
    serving: Serving = request.app.state.serving
    used = [UsageEvent(e.strip()) for e in events.replace("\n", ",").split(",") if e.strip()]
    refused = _refused_events(used)
    if refused:
        return render(request, "try_results.html", user, pairs=[], error=refused)
    if item_id:
        ask = RecommendRequest(RuleOptions("item_to_items"), count, item_id=item_id)
    else:
        ask = RecommendRequest(RuleOptions("session_to_items"), count, events=used)
    try:
        answer = await serving.recommender.recommend(ask, model_id)
        pairs = list(zip(answer.item_ids, answer.scores, strict=True))
        return render(request, "try_results.html", user, pairs=pairs, error=None)
    except RecostackError as error:
        return render(request, "try_results.html", user, pairs=[], error=error.message)


@router.post("/models/{model_id}/default")
def make_default(
    request: Request, model_id: str, user: AdminUser, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(user, csrf_token)
    db: Database = request.app.state.db
    with db.transaction() as session:
        row = get_model(session, model_id)
        if row.status != ModelStatus.COMPLETED:
            return RedirectResponse(f"/models/{model_id}", status_code=303)
        set_default_model_id(session, row.id)
    request.app.state.serving.models.set_default(row.id)
    return RedirectResponse(f"/models/{model_id}", status_code=303)
