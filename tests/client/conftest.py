"""A real Recostack server for the SDK tests: uvicorn in a thread on a free loopback port.

One server per database (SQLite, then a PostgreSQL schema of its own) for
the whole session, with a training worker inside, and a Completed model
trained through the SDK itself.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conftest import ADMIN_KEY, RECOMMEND_KEY, make_settings, write_catalog, write_usage
from recostack.api.app import create_app
from recostack.client import Client, Deployment
from recostack.serving.keys import Role
from recostack.store.engine import Database
from recostack.store.key_repository import ensure_keys
from recostack.store.migrate import upgrade
from recostack.store.server_secret import key_secret


@dataclass
class LiveServer:
    url: str
    backend: str
    app: FastAPI
    model_id: str
    second_model_id: str

    def client(self, key: str = ADMIN_KEY) -> Client:
        return Client(self.url, key, poll_seconds=0.02)


def wait_until_logged(deployment: Deployment, *request_ids: str, timeout: float = 10) -> None:
    """The server writes prediction logs in the background: wait until it holds these answers."""
    deadline = time.monotonic() + timeout
    while True:
        logged = {r.request_id for r in deployment.get_prediction_logs_records(limit=1000)}
        if logged.issuperset(request_ids):
            return
        assert time.monotonic() < deadline, f"not logged after {timeout} s"
        time.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp(f"live-{request.param}")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'recostack.db'}"
    else:
        base: str = request.getfixturevalue("postgres_url")
        schema = f"rs_live_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    settings = make_settings(Path(root / "data"), url, workers_in_process=1)
    db = Database.open(settings.effective_database_url)
    upgrade(db.engine)
    with db.transaction() as session:
        ensure_keys(
            session, {Role.ADMIN: ADMIN_KEY, Role.RECOMMEND: RECOMMEND_KEY}, key_secret(settings)
        )
    db.dispose()
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    base_url = f"http://127.0.0.1:{port}"
    with Client(base_url, ADMIN_KEY, poll_seconds=0.05) as client:
        usage = write_usage(root / "usage.csv").read_bytes()
        catalog = write_catalog(root / "catalog.csv").read_bytes()
        client.upload_file("input", "usage.csv", usage)
        client.upload_file("input", "catalog.csv", catalog)
        params = {
            "blob_container_name": "input",
            "usage_relative_path": "usage.csv",
            "catalog_file_relative_path": "catalog.csv",
        }
        first = client.create_model(description="first", support_threshold=3, **params)
        second = client.create_model(description="second", support_threshold=4, **params)
        first.wait_for_training(timeout=60)
        second.wait_for_training(timeout=60)
    try:
        yield LiveServer(base_url, request.param, app, first.id, second.id)
    finally:
        server.should_exit = True
        thread.join(30)
        if schema is not None:
            with admin.connect() as connection:
                connection.execute(text("SET lock_timeout = '20s'"))
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
