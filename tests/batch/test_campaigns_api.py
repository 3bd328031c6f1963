"""Campaigns over HTTP: create (deployed and measured by a worker), describe, recommend,
update (only when ACTIVE or CREATE FAILED), list, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient


def test_a_campaign_lives_through_its_statuses(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    run_jobs: Callable[[], int],
) -> None:
    def campaign() -> dict[str, Any]:
        answer = client.get("/api/campaigns/shop", headers=admin_headers)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["campaign"])

    created = client.post(
        "/api/campaigns",
        json={
            "name": "shop",
            "solutionVersionArn": trained_model["id"],
            "minProvisionedTPS": 1_000_000,
            "campaignConfig": {"itemExplorationConfig": {"explorationWeight": "0.5"}},
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert created.json() == {"campaignArn": "shop"}
    assert campaign()["status"] == "CREATE PENDING"
    again = client.post(
        "/api/campaigns",
        json={"name": "shop", "solutionVersionArn": trained_model["id"]},
        headers=admin_headers,
    )
    assert again.status_code == 409
    early = client.patch(
        "/api/campaigns/shop", json={"minProvisionedTPS": 2}, headers=admin_headers
    )
    assert early.status_code == 409  # not ACTIVE yet
    assert run_jobs() == 1
    active = campaign()
    assert active["status"] == "ACTIVE", active
    assert active["measuredTPS"] > 0
    assert active["measuredTPSBelowMinimum"] is True and "below" in active["throughputNote"]
    assert active["campaignConfig"] == {
        "itemExplorationConfig": {"explorationWeight": "0.5", "explorationItemAgeCutOff": "30"}
    }
    answer = client.get(
        "/api/campaigns/shop/recommendations?itemId=item3&numResults=4", headers=recommend_headers
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["itemList"]) == 4 and answer.json()["recommendationId"]
    deployment = client.get("/api/deployments/campaign-shop", headers=admin_headers).json()
    assert deployment["status"] == "ACTIVE"
    assert deployment["itemExplorationConfig"]["explorationWeight"] == "0.5"

    updated = client.patch(
        "/api/campaigns/shop",
        json={"minProvisionedTPS": 1, "campaignConfig": {}},
        headers=admin_headers,
    )
    assert updated.status_code == 200, updated.text
    pending = campaign()
    assert pending["status"] == "ACTIVE"  # it keeps serving while the update is deployed
    assert pending["latestCampaignUpdate"]["status"] == "CREATE PENDING"
    assert run_jobs() == 1
    done = campaign()
    assert done["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert done["minProvisionedTPS"] == 1 and done["measuredTPSBelowMinimum"] is False
    assert done["campaignConfig"] == {}
    listed = client.get("/api/campaigns", headers=admin_headers).json()
    assert [c["name"] for c in listed["campaigns"]] == ["shop"]

    deleted = client.delete("/api/campaigns/shop", headers=admin_headers)
    assert deleted.status_code == 202 and deleted.json()["campaign"]["status"] == "DELETE PENDING"
    assert run_jobs() == 1
    assert client.get("/api/campaigns/shop", headers=admin_headers).status_code == 404
    assert client.get("/api/deployments/campaign-shop", headers=admin_headers).status_code == 404


def test_a_campaign_of_a_model_that_is_not_completed_is_refused(
    client: TestClient, admin_headers: dict[str, str], container: str
) -> None:
    created = client.post(
        "/api/models",
        json={"blobContainerName": container, "usageRelativePath": "usage.csv"},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    queued = created.json()["id"]  # no worker has trained it: it is not Completed
    described = client.get(f"/api/models/{queued}", headers=admin_headers).json()
    assert described["modelStatus"] == "Created", described
    answer = client.post(
        "/api/campaigns", json={"name": "x", "solutionVersionArn": queued}, headers=admin_headers
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["field"] == "solutionVersionArn" and "Created" in answer.json()["message"]
    missing = client.post(
        "/api/campaigns",
        json={"name": "x", "solutionVersionArn": "00000000-0000-0000-0000-000000000000"},
        headers=admin_headers,
    )
    assert missing.status_code == 404 and missing.json()["field"] == "solutionVersionArn"
    assert client.get("/api/campaigns", headers=admin_headers).json()["campaigns"] == []
