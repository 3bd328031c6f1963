"""Dependencies of the business-rules routers: the scenario cache and store.

Each app holds one :class:`~recostack.serving.scenario_cache.ScenarioCache`
(``app.state.scenario_cache``, made on first use) and one
:class:`~recostack.store.scenario_repository.ScenarioStore` whose writes
reload that cache at once. :func:`scenario_lifespan` starts the cache's
poller with the app and stops it again; it is the lifespan of the
recommendation router (FastAPI merges a router's lifespan into the app's).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from recostack.serving.scenario_cache import ScenarioCache
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.scenario_repository import ScenarioStore, StoreScenarioSource

__all__ = [
    "ScenarioCacheDep",
    "ScenarioStoreDep",
    "scenario_cache",
    "scenario_lifespan",
    "scenario_store",
]

_CREATE_LOCK = threading.Lock()


def scenario_cache(app: FastAPI) -> ScenarioCache:
    """The app's scenario cache (created on first use)."""
    state = app.state
    cache: ScenarioCache | None = getattr(state, "scenario_cache", None)
    if cache is None:
        with _CREATE_LOCK:
            cache = getattr(state, "scenario_cache", None)
            if cache is None:
                db: Database = state.db
                settings: Settings = state.settings
                cache = ScenarioCache(
                    StoreScenarioSource(db.engine),
                    refresh_seconds=settings.state_refresh_seconds,
                )
                state.scenario_cache = cache
    return cache


def scenario_store(app: FastAPI) -> ScenarioStore:
    """The app's scenario store service (its writes reload the app's cache)."""
    state = app.state
    store: ScenarioStore | None = getattr(state, "scenario_store", None)
    if store is None:
        with _CREATE_LOCK:
            store = getattr(state, "scenario_store", None)
            if store is None:
                store = ScenarioStore(state.db, on_change=scenario_cache(app).reload)
                state.scenario_store = store
    return store


@asynccontextmanager
async def scenario_lifespan(app: FastAPI) -> AsyncIterator[None]:
    cache = scenario_cache(app)
    cache.start()
    try:
        yield
    finally:
        cache.stop()


async def _cache(request: Request) -> ScenarioCache:
    return scenario_cache(request.app)


async def _store(request: Request) -> ScenarioStore:
    return scenario_store(request.app)


ScenarioCacheDep = Annotated[ScenarioCache, Depends(_cache)]
ScenarioStoreDep = Annotated[ScenarioStore, Depends(_store)]
