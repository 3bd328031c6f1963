"""How the API answers a database it cannot reach: one shape, stated in the document.

The end-to-end test (``test_database_outage.py``) stops a real server; here
the errors an outage raises are raised by a route of the real app, so that
each kind is checked: refused or cut connections (operational), a closed
connection (interface), no pooled connection in time (pool timeout), a
connection found invalid — all a JSON 503 with ``Retry-After``; a wrong
statement (an integrity error) stays a 500 that says nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc


def _cut() -> sa_exc.DBAPIError:
    error = sa_exc.DBAPIError("SELECT 1", {}, Exception("server closed the connection"))
    error.connection_invalidated = True
    return error


OUTAGES: dict[str, Callable[[], Exception]] = {
    "refused": lambda: sa_exc.OperationalError("SELECT 1", {}, Exception("connection refused")),
    "closed": lambda: sa_exc.InterfaceError("SELECT 1", {}, Exception("the connection is closed")),
    "pool": lambda: sa_exc.TimeoutError("QueuePool limit of size 10 overflow 20 reached"),
    "cut": _cut,
}


def _raising(app: FastAPI, name: str, error: Callable[[], Exception]) -> None:
    def boom() -> None:
        raise error()

    app.add_api_route(f"/boom/{name}", boom, methods=["GET"])


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The answers do not depend on the database: SQLite only."""
    return f"sqlite:///{tmp_path / 'recostack.db'}"


def test_an_unreachable_database_is_a_json_503(app: FastAPI) -> None:
    for kind, error in OUTAGES.items():
        _raising(app, kind, error)
    with TestClient(app, raise_server_exceptions=False) as client:
        for kind in OUTAGES:
            answer = client.get(f"/boom/{kind}")
            assert answer.status_code == 503, kind
            assert answer.headers["retry-after"] == "1"
            body = answer.json()
            assert body["error"] == "unavailable"
            assert "database" in body["message"]
            assert "Traceback" not in answer.text and "SELECT" not in answer.text


def test_a_wrong_statement_stays_a_500(app: FastAPI) -> None:
    _raising(app, "wrong", lambda: sa_exc.IntegrityError("INSERT", {}, Exception("duplicate")))
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom/wrong")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal", "message": "internal server error"}


def test_every_operation_states_the_503(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "503" in operation["responses"], (method, path)
