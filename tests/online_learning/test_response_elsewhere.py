"""A response posted to another process before the answering process has stored what its online
answer showed: it waits for the shown offers and is learned from, or, if they do not come in
time, it is refused with a 503 to retry — never stored as a plain response the arms never see.

Two apps on one database stand for two API processes; the answering one's learner holds its
writes (a slow or unreachable database) until the test lets them through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recostack.api.app import create_app
from recostack.settings import Settings


def _arms(client: TestClient, headers: dict[str, str], config_id: str) -> dict[Any, Any]:
    client.app.state.serving.online.learner.flush()  # type: ignore[attr-defined]
    rows = client.get(f"/api/online-learning/{config_id}/arms", headers=headers).json()
    return {(r["offer"], r["segment"]): r for r in rows}


@pytest.fixture
def other(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _answer(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    answer = client.post(
        "/api/deployments/nbo/recommend",
        json={"userId": "u1", "context": {"tier": "silver"}},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    client.app.state.serving.prediction_logger.flush()  # type: ignore[attr-defined]
    body: dict[str, Any] = answer.json()
    return body


def _respond(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post(
        "/api/deployments/nbo/responses",
        json={"requestId": body["requestId"], "itemId": body["items"][0]["itemId"], "takeUp": 1},
        headers=headers,
    )


def test_a_response_waits_for_the_shown_offers_of_another_process(
    client: TestClient,
    other: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
    held_writes: threading.Event,
) -> None:
    config_id = online()["config_id"]
    body = _answer(client, recommend_headers)
    answered: list[Any] = []
    responding = threading.Thread(
        target=lambda: answered.append(_respond(other, recommend_headers, body))
    )
    responding.start()
    responding.join(0.15)
    assert responding.is_alive()  # it waits for the shown offers
    held_writes.set()
    responding.join(10)
    assert answered[0].status_code == 201, answered[0].text
    arm = _arms(other, admin_headers, config_id)[(body["items"][0]["itemId"], "silver")]
    assert (arm["shown"], arm["taken_up"], arm["alpha"]) == (1, 1, 2.0)


def test_a_response_whose_shown_offers_do_not_come_is_refused_to_retry(
    client: TestClient,
    other: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
    held_writes: threading.Event,
) -> None:
    config_id = online()["config_id"]
    body = _answer(client, recommend_headers)
    refused = _respond(other, recommend_headers, body)
    assert refused.status_code == 503, refused.text
    assert refused.json()["field"] == "requestId"
    assert "retry" in refused.json()["message"]
    held_writes.set()
    retried = _respond(other, recommend_headers, body)
    assert retried.status_code == 201, retried.text
    arm = _arms(other, admin_headers, config_id)[(body["items"][0]["itemId"], "silver")]
    assert (arm["shown"], arm["taken_up"], arm["alpha"]) == (1, 1, 2.0)
    other.app.state.serving.prediction_logger.flush()  # type: ignore[attr-defined]
    logged = other.get("/api/deployments/nbo/response-logs", headers=admin_headers).json()
    assert len(logged) == 1  # the refused response left nothing behind


def test_an_unknown_request_id_is_still_a_404(
    other: TestClient,
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
) -> None:
    online()
    unknown = other.post(
        "/api/deployments/nbo/responses",
        json={"requestId": "00000000-0000-4000-8000-000000000000", "takeUp": 1},
        headers=recommend_headers,
    )
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["field"] == "requestId"
