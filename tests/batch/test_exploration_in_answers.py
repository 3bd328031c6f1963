"""Item exploration in answers (a batch job, a deployment): weights 0 < 0.3 < 0.9 explore more
and more, only new items with little data are explored, and each says so with its propensity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from batch.conftest import describe, read_lines
from conftest import write_usage
from recostack.settings import Settings

OLD = "2023-01-01T00:00:00"  # far older than 30 days before the newest interaction
NEW = "2024-03-04"  # two days before it


def _model_with_new_items(
    client: TestClient, headers: dict[str, str], settings: Settings, run_jobs: Callable[[], int]
) -> str:
    folder = settings.files_dir / "explore"
    write_usage(folder / "usage.csv")  # items 0..11 used, from 2024-03-01 to 2024-03-06
    rows = [f"item{i},Item {i},books,,CREATION_TIMESTAMP={OLD}" for i in range(12)]
    rows += [f"item{i},Item {i},books,,CREATION_TIMESTAMP={NEW}" for i in range(12, 16)]
    rows += ["olditem,Old,books,,CREATION_TIMESTAMP=1000000000"]  # old and never used
    (folder / "catalog.csv").write_text("\n".join(rows) + "\n")
    answer = client.post(
        "/api/models",
        json={
            "blobContainerName": "explore",
            "usageRelativePath": "usage.csv",
            "catalogFileRelativePath": "catalog.csv",
            "supportThreshold": 3,
            "enableUserToItemRecommendations": True,
        },
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    run_jobs()
    return str(answer.json()["id"])


def test_shares_grow_with_the_weight_and_only_new_items_are_explored(
    client: TestClient,
    admin_headers: dict[str, str],
    settings: Settings,
    write_input: Callable[[str, list[Any]], str],
    create_job: Callable[..., dict[str, Any]],
    run_jobs: Callable[[], int],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    model = _model_with_new_items(client, admin_headers, settings, run_jobs)
    source = write_input("explore.jsonl", [{"userId": f"user{i % 24}"} for i in range(200)])
    jobs = {
        weight: create_job(
            jobName=f"w{weight}",
            solutionVersionArn=model,
            numResults=5,
            batchInferenceJobConfig={"itemExplorationConfig": {"explorationWeight": weight}},
            jobInput={"path": source},
            jobOutput={"path": f"output/explore-{weight}.out"},
        )
        for weight in ("0", "0.3", "0.9")
    }
    assert run_jobs() == 3
    shares = {}
    new = {f"item{i}" for i in range(12, 16)}
    for weight, job in jobs.items():
        assert describe(client, admin_headers, job["batchInferenceJobArn"])["status"] == "ACTIVE"
        out = read_lines(settings.files_dir / "output" / f"explore-{weight}.out")
        explored = slots = 0
        for line in out:
            output = line["output"]
            slots += len(output["recommendedItems"])
            for item, reason, propensity in zip(
                output["recommendedItems"], output["reasons"], output["propensities"], strict=True
            ):
                if reason == "exploration":
                    explored += 1
                    assert item in new  # never an item older than the cut-off
                    assert 0 < propensity <= float(weight) / 2
                else:
                    assert propensity is None
        shares[weight] = explored / slots
    assert shares["0"] == 0 < shares["0.3"] < shares["0.9"], shares

    # a deployment explores the same way, and says which items were explored
    deploy(model, itemExplorationConfig={"explorationWeight": 1})
    reasons = []
    for user in range(24):
        body = client.post(
            "/api/deployments/web/recommend",
            json={"userId": f"user{user}", "recommendationCount": 5},
            headers=admin_headers,
        ).json()
        for item in body["items"]:
            if item.get("reason") == "exploration":
                assert item["itemId"] in new and 0 < item["propensity"] <= 0.5
                reasons.append(item["itemId"])
    assert reasons
