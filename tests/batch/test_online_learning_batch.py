"""A batch prediction through a deployment linked to online learning takes the configuration's
batch_* parameters: its customer input, count, context, output and campaign."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from batch.conftest import read_lines
from online_learning.conftest import PARAMETERS
from recostack.settings import Settings

BATCH = {
    "batch_collection": "crm",
    "batch_find": '{"active": "yes"}',
    "batch_contextual_variables": "tier",
    "batch_number_of_offers": 2,
    "batch_collection_out": "nbo-out",
    "batch_database_out": "batch",
    "batch_campaign": "spring",
    "batch_threads": 2,
}


@pytest.fixture
def batch_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PARAMETERS, "name", "offers-bandit-batch")
    for name, value in BATCH.items():
        monkeypatch.setitem(PARAMETERS, name, value)


def test_the_configuration_s_batch_parameters_drive_the_run(
    batch_parameters: None,
    client: TestClient,
    admin_headers: dict[str, str],
    settings: Settings,
    online: Callable[..., dict[str, Any]],
    run_jobs: Callable[[], int],
) -> None:
    online()
    customers = [
        {"customerId": "c1", "fields": {"tier": "gold", "active": "yes"}},
        {"customerId": "c2", "fields": {"tier": "silver", "active": "yes"}},
        {"customerId": "c3", "fields": {"tier": "gold", "active": "no"}},
    ]
    assert client.post("/api/customers/crm", json=customers, headers=admin_headers).is_success
    created = client.post("/api/deployments/nbo/batch-predictions", json={}, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert run_jobs() == 1
    prediction = client.get(
        f"/api/batch-predictions/{created.json()['batchPredictionId']}", headers=admin_headers
    ).json()
    assert prediction["status"] == "ACTIVE", prediction
    out = read_lines(settings.files_dir / "batch" / "nbo-out.jsonl")
    assert [line["input"]["customerId"] for line in out] == ["c1", "c2"]  # batch_find
    assert [line["input"]["context"] for line in out] == [{"tier": "gold"}, {"tier": "silver"}]
    for line in out:
        assert line["error"] is None and line["campaign"] == "spring"
        assert len(line["output"]["recommendedItems"]) == 2  # batch_number_of_offers
        assert set(line["output"]["recommendedItems"]) <= {"o1", "o2", "o3", "o4"}


def test_offers_a_batch_prediction_shows_are_stored_and_its_answers_can_be_responded_to(
    batch_parameters: None,
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    settings: Settings,
    online: Callable[..., dict[str, Any]],
    run_jobs: Callable[[], int],
) -> None:
    """A batch through an online deployment is a campaign of online answers: each line's offers
    count as shown in the options store (as a recommend request's do), and a take-up posted
    later with the line's requestId is learned."""
    config_id = online()["config_id"]
    customers = [
        {"customerId": f"c{n}", "fields": {"tier": "gold", "active": "yes"}} for n in range(40)
    ]
    assert client.post("/api/customers/crm", json=customers, headers=admin_headers).is_success
    created = client.post(
        "/api/deployments/nbo/batch-predictions",
        json={"output_includes_metadata": True},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert run_jobs() == 1
    out = read_lines(settings.files_dir / "batch" / "nbo-out.jsonl")
    assert len(out) == 40 and all(line["error"] is None for line in out)

    def arms() -> dict[str, dict[str, Any]]:
        client.app.state.serving.online.learner.flush()  # type: ignore[attr-defined]
        answer = client.get(f"/api/online-learning/{config_id}/arms", headers=admin_headers)
        assert answer.status_code == 200, answer.text
        return {a["offer"]: a for a in answer.json() if a["segment"] == "gold"}

    assert sum(a["shown"] for a in arms().values()) == 40 * 2  # batch_number_of_offers
    line = out[0]
    offer = line["output"]["recommendedItems"][0]
    before = arms()[offer]
    taken = client.post(
        "/api/deployments/nbo/responses",
        json={"requestId": line["output"]["requestId"], "itemId": offer, "takeUp": True},
        headers=recommend_headers,
    )
    assert taken.status_code == 201, taken.text
    after = arms()[offer]
    assert after["taken_up"] == before["taken_up"] + 1
    assert after["alpha"] == before["alpha"] + 1.0
