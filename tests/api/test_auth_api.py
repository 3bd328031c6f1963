"""API keys: roles, slots, rotation seen by a running server."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recostack.serving.keys import Role, Slot
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.key_repository import rotate_key
from recostack.store.server_secret import key_secret

Headers = dict[str, str]

ADMIN_ONLY = [
    ("GET", "/api/models"),
    ("POST", "/api/models"),
    ("GET", "/api/models/default"),
    ("PUT", "/api/models/default?modelId=x"),
    ("GET", "/api/models/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/api/models/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/files/input"),
    ("PUT", "/api/files/input/a.csv"),
    ("DELETE", "/api/files/input/a.csv"),
]
RECOMMEND = [
    ("GET", "/api/models/default/recommend?itemId=a"),
    ("POST", "/api/models/default/recommend"),
    ("GET", "/api/models/00000000-0000-0000-0000-000000000000/recommend?itemId=a"),
    ("POST", "/api/models/00000000-0000-0000-0000-000000000000/recommend"),
]


@pytest.mark.parametrize("key", [None, "", "wrong-key", "test-admin-key"])
def test_a_missing_or_wrong_key_is_401(client: TestClient, key: str | None) -> None:
    headers = {} if key is None else {"x-api-key": key}
    for method, url in ADMIN_ONLY + RECOMMEND:
        response = client.request(method, url, headers=headers, json=[])
        assert response.status_code == 401, (method, url)
        assert response.json()["error"] == "unauthorized"
        assert response.json()["field"] == "x-api-key"
        assert response.headers["www-authenticate"] == "ApiKey"


def test_a_recommend_key_on_an_admin_endpoint_is_403(
    client: TestClient, recommend_headers: Headers
) -> None:
    for method, url in ADMIN_ONLY:
        response = client.request(method, url, headers=recommend_headers, json={})
        assert response.status_code == 403, (method, url)
        assert response.json()["error"] == "forbidden"


def test_both_roles_may_recommend(
    client: TestClient, admin_headers: Headers, recommend_headers: Headers
) -> None:
    for method, url in RECOMMEND:
        for headers in (admin_headers, recommend_headers):
            response = client.request(method, url, headers=headers, json=[])
            assert response.status_code == 404, (method, url)  # past the key check


def _wait_for(predicate: Any, seconds: float = 2.0) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < seconds, "not seen in time"
        time.sleep(0.02)
    return time.monotonic() - start


def test_rotated_keys_are_seen_by_a_running_server(
    client: TestClient, db: Database, settings: Settings
) -> None:
    secret = key_secret(settings)

    def status(key: str) -> int:
        return client.get("/api/models", headers={"x-api-key": key}).status_code

    with db.transaction() as session:
        secondary = rotate_key(session, Role.ADMIN, Slot.SECONDARY, secret)
    _wait_for(lambda: status(secondary) == 200)
    with db.transaction() as session:
        replacement = rotate_key(session, Role.ADMIN, Slot.SECONDARY, secret)
    _wait_for(lambda: status(secondary) == 401)
    assert status(replacement) == 200
    with db.transaction() as session:
        recommend = rotate_key(session, Role.RECOMMEND, Slot.SECONDARY, secret)
    _wait_for(lambda: status(recommend) == 403)


def test_the_secret_is_never_in_an_answer_or_the_openapi(
    client: TestClient, admin_headers: Headers
) -> None:
    key = admin_headers["x-api-key"]
    assert key not in client.get("/openapi.json").text
    assert key not in client.get("/api/models", headers=admin_headers).text
