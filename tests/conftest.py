"""Shared fixtures: a seeded rng, a data directory, databases, settings, the app and its keys.

``database_url`` runs a test once on SQLite and once on the real
PostgreSQL server (``RECOSTACK_TEST_POSTGRES_URL``, by default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, falling back to the
user ``root``), each time in a schema of its own that is dropped
afterwards. If PostgreSQL is not reachable those tests fail: they are
never skipped.
"""

from __future__ import annotations

import os
import random
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# schemathesis imports its transports on first use; imported inside a running Hypothesis
# test (which raises the recursion limit), pytest's assertion rewriting of those modules
# trips CPython 3.11's "AST constructor recursion depth mismatch": import them up front
import schemathesis.transport.asgi
import schemathesis.transport.wsgi  # noqa: F401
from fastapi import FastAPI
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from recostack.api.app import create_app
from recostack.jobs.worker import Worker
from recostack.serving.keys import Role
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.key_repository import ensure_keys
from recostack.store.migrate import upgrade
from recostack.store.server_secret import key_secret
from recostack.store.tables import ApiKeyRow, ModelRow, SettingRow, TrainingJobRow

with warnings.catch_warnings():
    # Starlette's TestClient would rather use httpx2; httpx is what Recostack depends on.
    warnings.filterwarnings("ignore", message=".*httpx2", category=UserWarning)
    from fastapi.testclient import TestClient

ADMIN_KEY = "test-admin-key-0123456789abcdef0123456789"
RECOMMEND_KEY = "test-recommend-key-0123456789abcdef012345"

_PG_CANDIDATES = [
    os.environ.get("RECOSTACK_TEST_POSTGRES_URL", ""),
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
]


# --- basics --------------------------------------------------------------------


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


# --- databases -----------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The URL of the test database on the real PostgreSQL server."""
    problems = []
    for url in filter(None, _PG_CANDIDATES):
        engine = create_engine(url, connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as connection:
                connection.execute(text("select 1"))
            return url
        except Exception as exc:
            problems.append(f"{make_url(url).render_as_string()}: {str(exc).splitlines()[0]}")
        finally:
            engine.dispose()
    pytest.fail("PostgreSQL is not reachable (start it; see .ci/run): " + "; ".join(problems))


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty schema on PostgreSQL (``search_path`` set in the URL), dropped afterwards."""
    schema = f"rs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text("SET lock_timeout = '20s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'recostack.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


# --- settings, store, app --------------------------------------------------------


def make_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "admin_key": ADMIN_KEY,
        "recommend_key": RECOMMEND_KEY,
        "workers_in_process": 0,
        "train_in_subprocess": False,
        "job_poll_seconds": 0.05,
        "job_lease_seconds": 30.0,
        "job_heartbeat_seconds": 0.2,
        "state_refresh_seconds": 0.1,
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return make_settings(data_dir, database_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """The migrated store, with the test keys as primary keys."""
    database = Database.open(settings.effective_database_url)
    upgrade(database.engine)
    with database.transaction() as session:
        ensure_keys(
            session, {Role.ADMIN: ADMIN_KEY, Role.RECOMMEND: RECOMMEND_KEY}, key_secret(settings)
        )
    yield database
    database.dispose()


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"x-api-key": ADMIN_KEY}


@pytest.fixture
def recommend_headers() -> dict[str, str]:
    return {"x-api-key": RECOMMEND_KEY}


# --- training inputs -------------------------------------------------------------


def write_usage(
    path: Path, *, users: int = 24, items: int = 12, per_user: int = 6, seed: int = 7
) -> Path:
    """A small usage file: each user touches ``per_user`` of ``items`` items."""
    generator = random.Random(seed)
    lines = []
    types = ["Click", "Purchase", "AddShopCart", ""]
    for u in range(users):
        for n, i in enumerate(generator.sample(range(items), per_user)):
            event = types[(u + n) % len(types)]
            lines.append(
                f"user{u},item{i},2024-03-{1 + n:02d}T10:00:00" + (f",{event}" if event else "")
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_catalog(path: Path, *, items: int = 14) -> Path:
    """A catalog with two cold items (no usage) beyond ``write_usage``'s 12."""
    rows = [
        f"item{i},Item {i},{'books' if i % 2 else 'music'},,colour={'red' if i % 3 else 'blue'}"
        for i in range(items)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def container(settings: Settings) -> str:
    """Container ``input`` with usage.csv, catalog.csv, eval.csv and bad.csv (no valid line)."""
    folder = settings.files_dir / "input"
    write_usage(folder / "usage.csv")
    write_usage(folder / "eval.csv", users=10, per_user=3, seed=11)
    write_catalog(folder / "catalog.csv")
    (folder / "bad.csv").write_text("only-one-field\nuser1,item1,not-a-time\n")
    return "input"


@pytest.fixture
def run_jobs(settings: Settings, db: Database) -> Callable[[], int]:
    """Train every queued model in this thread; returns how many jobs ran."""

    def run() -> int:
        worker = Worker(settings, db, name="test")
        done = 0
        while worker.run_once():
            done += 1
        return done

    return run


@pytest.fixture
def trained_model(
    client: TestClient,
    admin_headers: dict[str, str],
    container: str,
    run_jobs: Callable[[], int],
) -> dict[str, Any]:
    """A Completed model (SAR on the small usage file with its catalog), as the API describes it."""
    body = {
        "description": "test model",
        "blobContainerName": container,
        "usageRelativePath": "usage.csv",
        "catalogFileRelativePath": "catalog.csv",
        "supportThreshold": 3,
        "enableUserToItemRecommendations": True,
    }
    created = client.post("/api/models", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    run_jobs()
    model = client.get(f"/api/models/{created.json()['id']}", headers=admin_headers).json()
    assert model["modelStatus"] == "Completed", model
    return dict(model)


@pytest.fixture
def stored_state(settings: Settings, db: Database) -> Callable[[], dict[str, Any]]:
    """Everything stored, rows and files, to check that a refused request changed nothing."""

    def snapshot() -> dict[str, Any]:
        state: dict[str, Any] = {}
        with db.engine.connect() as connection:
            for table in (ModelRow, TrainingJobRow, SettingRow, ApiKeyRow):
                rows = connection.execute(select(table.__table__)).all()
                state[table.__tablename__] = sorted(map(tuple, rows), key=repr)
        state["files"] = sorted(
            (str(p.relative_to(settings.data_dir)), p.stat().st_size if p.is_file() else -1)
            for folder in (settings.files_dir, settings.models_dir)
            if folder.exists()
            for p in folder.rglob("*")
        )
        return state

    return snapshot


# --- deployments: a project, a deployment waited for, another trained model -------------

STABLE = {"ACTIVE", "STOPPED", "FAILED"}


def wait_stable(
    client: TestClient, headers: dict[str, str], deployment_id: str, timeout: float = 90.0
) -> dict[str, Any]:
    """Poll until the deployment is in a stable state with no model switch pending (a first
    deployment in a fresh checkout compiles the kernels while it deploys: over 20 s when
    both test processes compile at once)."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(
            f"/api/deployments/{deployment_id}", headers=headers
        ).json()
        if body["status"] in STABLE and body["pendingModelVersion"] is None:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"deployment still {body['status']}: {body}")
        time.sleep(0.02)


@pytest.fixture
def project(client: TestClient, admin_headers: dict[str, str]) -> str:
    answer = client.post(
        "/api/projects",
        json={"projectId": "shop", "projectDescription": "the web shop"},
        headers=admin_headers,
    )
    assert answer.status_code == 201, answer.text
    return "shop"


@pytest.fixture
def deploy(
    client: TestClient, admin_headers: dict[str, str], project: str
) -> Callable[..., dict[str, Any]]:
    """Create a deployment and wait until it is ACTIVE (or stable)."""

    def create(model_id: str, deployment_id: str = "web", **fields: Any) -> dict[str, Any]:
        body = {"deploymentId": deployment_id, "version": "1", "modelId": model_id, **fields}
        answer = client.post(
            f"/api/projects/{project}/deployments", json=body, headers=admin_headers
        )
        assert answer.status_code == 201, answer.text
        return wait_stable(client, admin_headers, deployment_id)

    return create


@pytest.fixture
def train(
    client: TestClient,
    admin_headers: dict[str, str],
    container: str,
    run_jobs: Callable[[], int],
) -> Callable[..., str]:
    """Train another Completed model; returns its id."""

    def run(**parameters: Any) -> str:
        body = {
            "blobContainerName": container,
            "usageRelativePath": "usage.csv",
            "catalogFileRelativePath": "catalog.csv",
            **parameters,
        }
        created = client.post("/api/models", json=body, headers=admin_headers)
        assert created.status_code == 201, created.text
        run_jobs()
        return str(created.json()["id"])

    return run
