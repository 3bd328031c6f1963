"""Probes and metrics, as Kubernetes and Prometheus expect them (no API key).

- ``GET /healthz``: the process is alive (it answers).
- ``GET /readyz``: it can serve: the database answers, the schema is
  current, the default model and every ACTIVE deployment are loaded; a 503
  names what is not ready (:func:`~recostack.services.readiness.readiness`).
- ``GET /metrics``: the Prometheus text format: this API's processes'
  counters (requests by route template, method and status, latency,
  recommendations, errors and take-ups per deployment and version, the
  model cache), then what the store says (jobs by kind and status,
  workers' heartbeats).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from recostack.services.readiness import readiness, store_metrics
from recostack.serving import Serving
from recostack.serving.metrics import serving_metrics
from recostack.store.engine import Database

__all__ = ["router"]

router = APIRouter(tags=["operations"])

#: the exposition format's media type (prometheus_client's CONTENT_TYPE_LATEST)
METRICS_MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Health(BaseModel):
    status: str


class Check(BaseModel):
    ready: bool
    detail: str


class ReadinessPublic(BaseModel):
    """``status`` is ``ready`` or ``not ready``; ``notReady`` names the failing checks."""

    status: str
    notReady: list[str]
    checks: dict[str, Check]


@router.get("/healthz", summary="Liveness: the process answers", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: database, schema, default model and ACTIVE deployments loaded",
    response_model=ReadinessPublic,
    responses={503: {"model": ReadinessPublic, "description": "not ready: see notReady"}},
)
def readyz(request: Request) -> Any:
    db: Database = request.app.state.db
    serving: Serving = request.app.state.serving
    result = readiness(db, serving)
    body = ReadinessPublic(
        status="ready" if result.ready else "not ready",
        notReady=result.not_ready,
        checks={k: Check.model_validate(v) for k, v in result.checks.items()},
    )
    if result.ready:
        return body
    return JSONResponse(status_code=503, content=body.model_dump())


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    db: Database = request.app.state.db
    text = serving_metrics().render() + store_metrics(db)
    return Response(content=text, media_type=METRICS_MEDIA_TYPE)
