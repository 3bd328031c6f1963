"""The app's deployment serving (``app.state.deployment_serving``), made on first use.

:func:`deployment_lifespan` is the lifespan of the deployments router
(FastAPI merges it into the app's): it starts the refresher and the
prediction logger with the app, and on shutdown writes every queued log
record before the process ends.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from recostack.serving.deployment_serving import CustomerCache, DeploymentServing
from recostack.serving.prediction_logger import PredictionLogger
from recostack.serving.state import ServingState
from recostack.settings import Settings
from recostack.store.customer_repository import CustomerStore
from recostack.store.deployment_repository import DeploymentStore
from recostack.store.engine import Database
from recostack.store.prediction_log_repository import insert_predictions, purge_logs

__all__ = ["DeploymentServingDep", "deployment_lifespan", "deployment_serving"]

_CREATE_LOCK = threading.Lock()


def deployment_serving(app: FastAPI) -> DeploymentServing:
    state = app.state
    serving: DeploymentServing | None = getattr(state, "deployment_serving", None)
    if serving is None:
        with _CREATE_LOCK:
            serving = getattr(state, "deployment_serving", None)
            if serving is None:
                serving = _build(state.db, state.settings, state.serving)
                state.deployment_serving = serving
    return serving


def _build(db: Database, settings: Settings, models: ServingState) -> DeploymentServing:
    engine = db.engine

    def write(batch: Sequence[Mapping[str, Any]]) -> None:
        with engine.begin() as connection:
            insert_predictions(connection, batch)

    def purge(deployment_id: str, before: datetime) -> int:
        with engine.begin() as connection:
            return purge_logs(connection, deployment_id, before)

    return DeploymentServing(
        DeploymentStore(engine),
        models.load_model,
        CustomerCache(CustomerStore(engine)),
        PredictionLogger(write),
        refresh_seconds=settings.state_refresh_seconds,
        purge=purge,
    )


@asynccontextmanager
async def deployment_lifespan(app: FastAPI) -> AsyncIterator[None]:
    serving = deployment_serving(app)
    serving.start()
    try:
        yield
    finally:
        serving.stop()


async def _serving(request: Request) -> DeploymentServing:
    return deployment_serving(request.app)


DeploymentServingDep = Annotated[DeploymentServing, Depends(_serving)]
