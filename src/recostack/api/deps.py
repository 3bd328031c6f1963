"""Dependencies of the routers, as ``Annotated`` aliases.

``SessionDep`` (rolled back when the endpoint raises; an endpoint that
writes commits before it answers, so that the answer means "stored"),
``SettingsDep``, ``ServingDep`` (the process's
:class:`~recostack.serving.Serving`), ``RecommenderDep`` (the one
recommend pipeline), ``ScenarioStoreDep``, ``WorkersDep``, and the key
checks: ``AdminKey`` (admin endpoints) and ``RecommendKey`` (recommend
endpoints; an admin key works too). The key checks are ``async`` so that
they run on the event loop, and read only the in-memory key ring.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from recostack.errors import Forbidden, Unauthorized
from recostack.jobs.worker import WorkerThreads
from recostack.serving import Recommender, Serving
from recostack.serving.keys import Role
from recostack.settings import Settings
from recostack.store.availability import is_database_unavailable
from recostack.store.engine import Database
from recostack.store.scenario_repository import ScenarioStore

__all__ = [
    "API_KEY_HEADER",
    "AdminKey",
    "RecommendKey",
    "RecommenderDep",
    "ScenarioStoreDep",
    "ServingDep",
    "SessionDep",
    "SettingsDep",
    "WorkersDep",
]

logger = logging.getLogger(__name__)

API_KEY_HEADER = "x-api-key"
_api_key = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="an admin or recommend key"
)


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _serving(request: Request) -> Serving:
    serving: Serving = request.app.state.serving
    return serving


async def _recommender(request: Request) -> Recommender:
    recommender: Recommender = request.app.state.serving.recommender
    return recommender


async def _scenario_store(request: Request) -> ScenarioStore:
    store: ScenarioStore = request.app.state.scenario_store
    return store


async def _workers(request: Request) -> WorkerThreads | None:
    workers: WorkerThreads | None = request.app.state.workers
    return workers


def _session(request: Request) -> Iterator[Session]:
    db: Database = request.app.state.db
    with db.sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        try:
            session.commit()  # what is left is a read: an endpoint that writes has committed
        except Exception as exc:
            # the answer has gone out already: a database that went away since cannot change
            # it, and raising now would cut the connection under the client
            if not is_database_unavailable(exc):
                raise
            logger.warning(
                "the database went away after %s %s answered", request.method, request.url.path
            )


SettingsDep = Annotated[Settings, Depends(_settings)]
ServingDep = Annotated[Serving, Depends(_serving)]
RecommenderDep = Annotated[Recommender, Depends(_recommender)]
ScenarioStoreDep = Annotated[ScenarioStore, Depends(_scenario_store)]
WorkersDep = Annotated[WorkerThreads | None, Depends(_workers)]
SessionDep = Annotated[Session, Depends(_session)]


def _role(request: Request, key: str | None) -> Role:
    if not key:
        raise Unauthorized(f"send an API key in the {API_KEY_HEADER} header", field=API_KEY_HEADER)
    serving: Serving = request.app.state.serving
    role = serving.role_for(key)
    if role is None:
        raise Unauthorized("the API key is not valid", field=API_KEY_HEADER)
    return role


async def _require_admin(request: Request, key: Annotated[str | None, Security(_api_key)]) -> Role:
    role = _role(request, key)
    if role != Role.ADMIN:
        raise Forbidden("this endpoint needs an admin key", field=API_KEY_HEADER)
    return role


async def _require_recommend(
    request: Request, key: Annotated[str | None, Security(_api_key)]
) -> Role:
    return _role(request, key)


AdminKey = Annotated[Role, Depends(_require_admin)]
RecommendKey = Annotated[Role, Depends(_require_recommend)]
