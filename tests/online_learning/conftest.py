"""An online learning deployment over the API: offers, a feature store, a configuration."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import wait_stable

OFFERS = (
    "offer,name,category,tier\n"
    "o1,Savings,bank,\n"
    "o2,Travel,card,\n"
    "o3,Loan,bank,gold\n"
    "o4,Insurance,cover,\n"
)
PARAMETERS: dict[str, Any] = {
    "name": "offers-bandit",
    "description": "four offers by tier",
    "feature_store_collection": "offers_by_tier",
    "feature_store_database": "recostack",
    "options_store_database": "recostack",
    "options_store_collection": "offers_options",
    "contextual_variables_offer_key": "offer",
    "contextual_variables_contextual_variable_one_name": "tier",
    "randomisation_random_action": 0,
    "randomisation_fail_reward": 0.5,
    "randomisation_learning_rate": 1,
}


@pytest.fixture
def online(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
) -> Callable[..., dict[str, Any]]:
    """Offers, the feature store and a configuration; returns a deploy function."""
    loaded = client.put("/api/offers/bank?key=offer", content=OFFERS, headers=admin_headers)
    assert loaded.status_code == 200, loaded.text
    store = client.post(
        "/api/online-learning/feature-store",
        json={
            "offer_collection": "bank",
            "offer_name_column": "offer",
            "contextual_variables": {"tier": ["gold", "silver"]},
            "setup_feature_store_collection": "offers_by_tier",
        },
        headers=admin_headers,
    )
    assert store.status_code == 201, store.text
    created = client.post("/api/online-learning", json=PARAMETERS, headers=admin_headers)
    assert created.status_code == 201, created.text
    config_id = created.json()["id"]
    assert client.post("/api/projects", json={"projectId": "bank"}, headers=admin_headers)

    def deploy(
        deployment_id: str = "nbo", *, logging: dict[str, Any] | None = None, **bandit: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "deploymentId": deployment_id,
            "version": "1",
            "modelId": trained_model["id"],
            "multi_armed_bandit": {
                "epsilon": 0,
                "duration": 0,
                "pulse_responder_id": config_id,
                **bandit,
            },
            "setup_offer_matrix": {
                "datasource": "mongodb",
                "database": "recostack",
                "collection": "bank",
                "offer_lookup_id": "offer",
            },
        }
        if logging is not None:
            body["logging"] = logging
        answer = client.post("/api/projects/bank/deployments", json=body, headers=admin_headers)
        assert answer.status_code == 201, answer.text
        wait_stable(client, admin_headers, deployment_id)
        return {"config_id": config_id, "deployment_id": deployment_id}

    return deploy


@pytest.fixture
def held_writes(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The app's learner writes only once the returned event is set (a slow or unreachable
    store); set at the end of the test, so the server's shutdown writes go through."""
    source = client.app.state.serving.online.state.source  # type: ignore[attr-defined]
    write = source.write
    let_through = threading.Event()

    def held(impressions: Any, responses: Any) -> None:
        let_through.wait(60)
        write(impressions, responses)

    monkeypatch.setattr(source, "write", held)
    yield let_through
    let_through.set()
