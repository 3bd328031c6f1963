"""A deployment's log retention also removes the offers it showed (``online_interactions``)
once they no longer count, on SQLite and PostgreSQL; what still counts stays, and the arms
do not move."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from recostack.serving.deployments import retention
from recostack.serving.online.records import Impression
from recostack.store import options_store, serving_source
from recostack.store.engine import Database

HOUR_MS = 3_600_000


def _shown(config_id: str, deployment_id: str, request_id: str, shown_ms: int) -> Impression:
    return Impression(
        request_id, "o1", config_id, deployment_id, "1", "gold", None, 1, shown_ms, 0.5, 0.25,
        False, 0.5,
    )  # fmt: skip


def _stored(db: Database) -> list[str]:
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT request_id FROM online_interactions")).all()
    return sorted(r[0] for r in rows)


def test_retention_removes_the_shown_offers_that_no_longer_count(
    client: TestClient,
    db: Database,
    online: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # only this test purges (the server's own once-a-minute purge would race it)
    monkeypatch.setattr(retention, "EVERY_SECONDS", float("inf"))
    # retention 12 h, the configuration's window the default day
    config_id = online("nbo", logging={"enabled": True, "retention_days": 0.5})["config_id"]
    online("other")  # the same configuration, no retention
    now = int(time.time() * 1000)
    with db.engine.begin() as connection:
        options_store.record_impressions(
            connection,
            [
                _shown(config_id, "nbo", "old", now - 72 * HOUR_MS),  # out of the window
                _shown(config_id, "nbo", "older", now - 96 * HOUR_MS),
                _shown(config_id, "nbo", "counting", now - 18 * HOUR_MS),  # in it
                _shown(config_id, "nbo", "new", now - HOUR_MS),
                _shown(config_id, "other", "other-old", now - 72 * HOUR_MS),
            ],
        )
    serving = client.app.state.serving  # type: ignore[attr-defined]
    configuration = serving.online.state.configuration(config_id)
    with db.engine.begin() as connection:
        # the window drops the three shown three and four days ago (their 0.5 off beta)
        options_store.sweep(connection, config_id, configuration.params, now)
        arms = options_store.read_arm_table(connection, config_id).stats()
    assert arms["o1", "gold"].beta == 1.0 + 2 * 0.5

    # a purge deletes at most its limit a transaction
    with db.engine.begin() as connection:
        cutoff = now - 12 * HOUR_MS
        assert options_store.purge_interactions(connection, "nbo", [config_id], cutoff, 1) == 1
    assert len(_stored(db)) == 4
    monkeypatch.setattr(serving_source, "PURGE_CHUNK", 1)
    assert serving.retention.purge_expired() == 1
    # "counting" is older than the retention but still in its arm: it stays until it leaves
    # the window; the other deployment keeps no retention
    assert _stored(db) == ["counting", "new", "other-old"]
    with db.engine.connect() as connection:
        assert options_store.read_arm_table(connection, config_id).stats() == arms
    assert serving.retention.purge_expired() == 0
