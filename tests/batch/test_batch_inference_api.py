"""Batch inference jobs over HTTP: create, run in a worker, describe, list; bad lines and input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from batch.conftest import describe, read_lines
from recostack.settings import Settings


def test_a_job_scores_every_line_as_the_model_api_answers(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    write_input: Callable[[str, list[Any]], str],
    create_job: Callable[..., dict[str, Any]],
    run_jobs: Callable[[], int],
) -> None:
    lines: list[Any] = [
        {"userId": "user1"},
        {"itemId": "item3"},
        "not json",
        {"userId": "user2", "events": [{"itemId": "item5", "eventType": "Purchase"}]},
        {"userId": "user4", "events": [{"itemId": "item5", "eventType": "NoSuchType"}]},
        {"nothing": 1},
    ]
    job = create_job(
        jobName="nightly",
        solutionVersionArn=trained_model["id"],
        numResults=5,
        jobInput={"s3DataSource": {"path": write_input("users.jsonl", lines)}},
        jobOutput={"s3DataDestination": {"path": "output/"}},
    )
    assert job["status"] == "PENDING"
    assert job["jobOutput"]["s3DataDestination"]["path"] == "output/users.jsonl.out"
    assert run_jobs() == 1
    done = describe(client, admin_headers, job["batchInferenceJobArn"])
    assert done["status"] == "ACTIVE", done
    assert done["progress"]["linesTotal"] == 6
    assert done["progress"]["linesDone"] == 6
    assert done["progress"]["linesFailed"] == 3
    out = read_lines(settings.files_dir / "output" / "users.jsonl.out")
    assert [o["input"] for o in out] == lines
    model = trained_model["id"]
    item = client.get(
        f"/api/models/{model}/recommend?itemId=item3&recommendationCount=5", headers=admin_headers
    ).json()
    assert out[1]["output"]["recommendedItems"] == [r["recommendedItemId"] for r in item]
    assert out[1]["output"]["scores"] == [r["score"] for r in item]
    personal = client.post(
        f"/api/models/{model}/recommend?userId=user2&recommendationCount=5",
        json=[{"itemId": "item5", "eventType": "Purchase"}],
        headers=admin_headers,
    ).json()
    assert out[3]["output"]["recommendedItems"] == [r["recommendedItemId"] for r in personal]
    assert out[0]["error"] is None and len(out[0]["output"]["recommendedItems"]) == 5
    assert out[2]["output"] is None and "JSON" in out[2]["error"]
    assert out[4]["output"] is None and "NoSuchType" in out[4]["error"]
    assert out[5]["output"] is None and "userId" in out[5]["error"]
    listed = client.get("/api/batch-inference-jobs", headers=admin_headers).json()
    assert [j["jobName"] for j in listed["batchInferenceJobs"]] == ["nightly"]


def test_bad_requests_are_refused_and_store_nothing(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    write_input: Callable[[str, list[Any]], str],
    tmp_path: Any,
) -> None:
    source = write_input("u.jsonl", [{"userId": "user1"}])
    base = {"jobName": "j", "solutionVersionArn": trained_model["id"]}

    def post(**body: Any) -> Any:
        return client.post(
            "/api/batch-inference-jobs", json={**base, **body}, headers=admin_headers
        )

    missing = post(jobInput={"path": "input/nope.jsonl"}, jobOutput={"path": "out/x"})
    assert missing.status_code == 404 and missing.json()["field"] == "jobInput"
    outside = post(jobInput={"path": source}, jobOutput={"path": str(tmp_path / "x.out")})
    assert outside.status_code == 422 and outside.json()["field"] == "jobOutput"
    unknown = post(
        solutionVersionArn="00000000-0000-0000-0000-000000000000",
        jobInput={"path": source},
        jobOutput={"path": "out/x"},
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "solutionVersionArn"
    both = post(deploymentId="web", jobInput={"path": source}, jobOutput={"path": "out/x"})
    assert both.status_code == 400
    assert client.get("/api/batch-inference-jobs", headers=admin_headers).json() == {
        "batchInferenceJobs": [],
        "nextToken": None,
    }
