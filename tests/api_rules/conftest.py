"""Fixtures of the rules API tests: the trained rules model, the rules tables' rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.scenario_tables import AbTestRow, DefaultScenarioRow, ScenarioRow
from recostack.store.tables import SettingRow

from .rules_app import Api, Headers, RulesModel, write_rules_inputs


@pytest.fixture
def rules_model(
    client: TestClient,
    admin_headers: Headers,
    settings: Settings,
    run_jobs: Callable[[], int],
) -> RulesModel:
    history = write_rules_inputs(settings.files_dir / "rules")
    body = {
        "description": "rules model",
        "blobContainerName": "rules",
        "usageRelativePath": "usage.csv",
        "catalogFileRelativePath": "catalog.csv",
        "supportThreshold": 3,
        "enableUserToItemRecommendations": True,
    }
    created = client.post("/api/models", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    run_jobs()
    model_id = created.json()["id"]
    status = client.get(f"/api/models/{model_id}", headers=admin_headers).json()
    assert status["modelStatus"] == "Completed", status
    done = client.put("/api/models/default", params={"modelId": model_id}, headers=admin_headers)
    assert done.status_code == 200, done.text
    return RulesModel(model_id, history)


@pytest.fixture
def rules_state(db: Database) -> Callable[[], dict[str, Any]]:
    """Every row of the rules tables (and the settings), to check a refused write."""

    def snapshot() -> dict[str, Any]:
        with db.engine.connect() as connection:
            return {
                table.__tablename__: sorted(
                    map(tuple, connection.execute(select(table.__table__)).all()), key=repr
                )
                for table in (ScenarioRow, AbTestRow, DefaultScenarioRow, SettingRow)
            }

    return snapshot


@pytest.fixture
def api(client: TestClient, admin_headers: Headers, recommend_headers: Headers) -> Iterator[Api]:
    yield Api(client, admin_headers, recommend_headers)
