"""The learner's queue is bounded: past ``online_learning_max_backlog`` items waiting to be
written, an online answer waits for room and, if none comes in time, is a 503 to retry; what
was queued is written once the store takes it, nothing dropped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import make_settings
from recostack.settings import Settings

#: three offers an answer (every offer of the silver tier): two answers fill the queue
BACKLOG = 6


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    return make_settings(data_dir, database_url, online_learning_max_backlog=BACKLOG)


def _ask(client: TestClient, headers: dict[str, str]) -> Any:
    return client.post(
        "/api/deployments/nbo/recommend",
        json={"userId": "u1", "context": {"tier": "silver"}, "recommendationCount": 4},
        headers=headers,
    )


def test_answers_wait_for_room_then_are_refused_and_nothing_queued_is_lost(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., dict[str, Any]],
    held_writes: threading.Event,
) -> None:
    config_id = online()["config_id"]
    learner = client.app.state.serving.online.learner  # type: ignore[attr-defined]
    assert learner.max_backlog == BACKLOG  # the setting reaches the process's learner
    shown = 0
    for _ in range(3):  # 0, 3, then 6 items waiting: each has room
        answer = _ask(client, recommend_headers)
        assert answer.status_code == 200, answer.text
        shown += len(answer.json()["items"])
    assert shown == 9 and learner.queued - learner.written == 9

    refused = _ask(client, recommend_headers)  # 9 waiting, more than 6: no room comes
    assert refused.status_code == 503, refused.text
    body = refused.json()
    assert body["error"] == "unavailable"
    assert "online learning is behind: 9 shown offers and responses" in body["message"]
    assert learner.queued - learner.written == 9  # the refused answer queued nothing

    # the store comes back while an answer waits: it gets its room and is answered
    threading.Timer(0.5, held_writes.set).start()
    waited = _ask(client, recommend_headers)
    assert waited.status_code == 200, waited.text
    shown += len(waited.json()["items"])

    assert learner.flush()
    arms = client.get(f"/api/online-learning/{config_id}/arms", headers=admin_headers).json()
    assert sum(a["shown"] for a in arms) == shown == 12
