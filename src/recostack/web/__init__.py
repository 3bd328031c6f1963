"""The dashboard: server-rendered pages at ``/`` (Jinja2 and htmx; charts by uPlot, shipped
in ``static/``, no network at run time), signed in with an API key.

:func:`install` adds its routes and static files to the app; the API stays
under ``/api`` and the dashboard's pages are not part of its OpenAPI document.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from recostack.web import (
    deployments_pages,
    jobs_pages,
    models_pages,
    online_pages,
    overview_pages,
    pages,
    scenarios_pages,
)
from recostack.web.templating import STATIC_DIR

__all__ = ["install"]


def install(app: FastAPI) -> None:
    dashboard = APIRouter(include_in_schema=False)
    for module in (
        pages,
        overview_pages,
        models_pages,
        deployments_pages,
        scenarios_pages,
        online_pages,
        jobs_pages,
    ):
        dashboard.include_router(module.router)
    app.include_router(dashboard)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
