"""The Spark engine (local[2]) trains the local engine's SAR model: same similarities (1e-6),
same top-10 lists, on MovieLens 100K; and scores batch lines as the local engine does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from batch.conftest import describe
from recostack.settings import Settings
from recostack.training.parameters import TrainingParameters
from recostack.training.pipeline import train_from_paths
from recostack.training.trained_model import TrainedModel

#: PySpark 4.3 warns that it does not fully support pandas 3 (the engine moves data as Arrow)
pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.timeout(300),  # a JVM starts in the first test (slow on a loaded machine)
]

CASES = [
    {"similarityFunction": "Jaccard", "enableUserAffinity": True, "supportThreshold": 3},
    {"similarityFunction": "Lift", "cooccurrenceUnit": "Timestamp", "supportThreshold": 3},
    {"similarityFunction": "Cooccurrence", "maxNeighbors": 50, "supportThreshold": 5},
]


def _train(folder: Path, out: Path, engine: str, case: dict[str, Any]) -> TrainedModel:
    params = TrainingParameters.model_validate(
        {
            "usageRelativePath": "usage.csv",
            "enableUserToItemRecommendations": True,
            "decayPeriodInDays": 30,
            "engine": engine,
            **case,
        }
    )
    return train_from_paths(params, usage_path=folder / "usage.csv", out_dir=out).model


@pytest.mark.parametrize("case", CASES, ids=lambda c: str(c["similarityFunction"]))
def test_spark_trains_the_local_engine_s_model(
    spark: Any,
    movielens_dir: Path,
    tmp_path: Path,
    case: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if case["similarityFunction"] == "Cooccurrence":  # partial counts summed by Spark
        monkeypatch.setenv("RECOSTACK_SPARK_BROADCAST_BYTES", "0")
    if case["similarityFunction"] == "Lift":
        # as on a cluster without a folder both see: every array through Spark
        from recostack.training import spark_sar

        monkeypatch.setattr(spark_sar, "_spill_root", lambda _spark: None)
    local = _train(movielens_dir, tmp_path / "local", "local", case)
    remote = _train(movielens_dir, tmp_path / "spark", "spark", case)
    assert remote.statistics["engine"] == "spark"
    assert local.items.ids.tolist() == remote.items.ids.tolist()
    a, b = local.item_item.to_csr(), remote.item_item.to_csr()
    assert a.nnz == b.nnz > 0
    assert abs(a - b).max() <= 1e-6
    # the rows in the same order (ties too), so every answer is the same
    np.testing.assert_array_equal(local.item_item.indptr, remote.item_item.indptr)
    np.testing.assert_array_equal(local.item_item.indices, remote.item_item.indices)
    np.testing.assert_allclose(local.item_item.data, remote.item_item.data, atol=1e-6)
    np.testing.assert_array_equal(local.item_item.popularity, remote.item_item.popularity)
    assert local.history is not None and remote.history is not None
    # the affinities are the local engine's own function's, range by range of users: equal
    assert (local.history != remote.history).nnz == 0
    users = local.users.ids[:: max(1, len(local.users) // 200)].tolist() if local.users else []
    for user in users:
        assert [r.item_id for r in local.recommend_events([], 10, user)] == [
            r.item_id for r in remote.recommend_events([], 10, user)
        ]
    for item in local.items.ids[:200].tolist():
        assert local.recommend_item(item, 10) == remote.recommend_item(item, 10)


def test_a_batch_job_on_spark_writes_what_the_local_engine_writes(
    spark: Any,
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    write_input: Callable[[str, list[Any]], str],
    create_job: Callable[..., dict[str, Any]],
    run_jobs: Callable[[], int],
) -> None:
    lines: list[Any] = [{"userId": f"user{i}"} for i in range(24)]
    lines += [{"itemId": "item2"}, "bad line"]
    path = write_input("spark.jsonl", lines)
    jobs = [
        create_job(
            jobName=f"on-{engine}",
            solutionVersionArn=trained_model["id"],
            numResults=4,
            filters=["category:eq:books"],
            engine=engine,
            jobInput={"path": path},
            jobOutput={"path": f"output/{engine}.out"},
        )
        for engine in ("local", "spark")
    ]
    assert run_jobs() == 2
    for job in jobs:
        done = describe(client, admin_headers, job["batchInferenceJobArn"])
        assert done["status"] == "ACTIVE", done
        assert done["engine"] == job["engine"]
    local = (settings.files_dir / "output" / "local.out").read_bytes()
    remote = (settings.files_dir / "output" / "spark.out").read_bytes()
    assert local.count(b"\n") == 26
    assert local == remote


def test_a_model_created_over_http_with_engine_spark_answers_as_the_local_one(
    spark: Any,
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    run_jobs: Callable[[], int],
) -> None:
    """``"engine": "spark"`` on ``POST /api/models``: trained on Spark by the worker, the same
    answers as the same body trained on the local engine (``trained_model``)."""
    body = {
        "description": "on spark",
        "blobContainerName": "input",
        "usageRelativePath": "usage.csv",
        "catalogFileRelativePath": "catalog.csv",
        "supportThreshold": 3,
        "enableUserToItemRecommendations": True,
        "engine": "spark",
    }
    created = client.post("/api/models", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert run_jobs() == 1
    model = client.get(f"/api/models/{created.json()['id']}", headers=admin_headers).json()
    assert model["modelStatus"] == "Completed", model
    assert model["statistics"]["engine"] == "spark"

    def answers(model_id: str, item: str | None, used: list[str]) -> list[tuple[str, float]]:
        path = f"/api/models/{model_id}/recommend"
        if item is not None:
            got = client.get(f"{path}?itemId={item}&recommendationCount=5", headers=admin_headers)
        else:  # personalized: the items a user used
            events = [{"itemId": i} for i in used]
            got = client.post(f"{path}?recommendationCount=5", json=events, headers=admin_headers)
        assert got.status_code == 200, got.text
        return [(r["recommendedItemId"], round(r["score"], 6)) for r in got.json()]

    asks = [(f"item{i}", []) for i in range(12)]
    asks += [(None, [f"item{i}", f"item{(i * 5 + 3) % 12}"]) for i in range(6)]
    for item, used in asks:
        assert answers(model["id"], item, used) == answers(trained_model["id"], item, used)
