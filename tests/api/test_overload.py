"""Overload protection: a process holding max_requests_in_flight unanswered requests answers the
next at once with a 503 JSON body and Retry-After, keeps answering its probes and /metrics,
and takes requests again as soon as the ones in flight are answered."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import make_settings
from operations.prometheus_text import request_count
from recostack.api.app import create_app
from recostack.store.engine import Database

LIMIT = 2


@pytest.fixture
def slow_app(data_dir: Path, database_url: str, db: Database) -> Iterator[Any]:
    """The app with a limit of 2 and a route that holds its request until told to answer."""
    app = create_app(make_settings(data_dir, database_url, max_requests_in_flight=LIMIT))
    app.state.entered = 0
    app.state.release = threading.Event()

    async def held() -> dict[str, str]:
        app.state.entered += 1
        while not app.state.release.is_set():
            await asyncio.sleep(0.01)
        return {"held": "answered"}

    app.add_api_route("/api/held", held, methods=["GET"])
    yield app


def test_requests_over_the_limit_are_refused_at_once_and_probes_still_answer(
    slow_app: Any, admin_headers: dict[str, str]
) -> None:
    with TestClient(slow_app) as client:
        answers: list[Any] = []
        holders = [
            threading.Thread(target=lambda: answers.append(client.get("/api/held")))
            for _ in range(LIMIT)
        ]
        try:
            for holder in holders:
                holder.start()
            for _ in range(500):
                if slow_app.state.entered == LIMIT:
                    break
                threading.Event().wait(0.01)
            assert slow_app.state.entered == LIMIT

            before = request_count(client.get("/metrics").text, "/api/models", "GET", 503)
            refused = client.get("/api/models", headers=admin_headers)
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "1"
            body = refused.json()
            assert body["error"] == "overloaded"
            assert "max_requests_in_flight" in body["message"]
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code in (200, 503)  # answered, not shed
            metrics = client.get("/metrics")
            assert metrics.status_code == 200
            assert request_count(metrics.text, "/api/models", "GET", 503) == before + 1

            slow_app.state.release.set()
            for holder in holders:
                holder.join(10)
            assert [a.status_code for a in answers] == [200] * LIMIT
            again = client.get("/api/models", headers=admin_headers)
            assert again.status_code == 200, again.text
        finally:  # never leave the held requests behind (the client's exit would wait)
            slow_app.state.release.set()
            for holder in holders:
                if holder.ident is not None:
                    holder.join(10)
