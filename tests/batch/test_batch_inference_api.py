"""Batch inference jobs over HTTP: create, run in a worker, describe, list; bad lines and input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from batch.conftest import describe, read_lines
from conftest import write_usage
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
    two_scenarios = post(
        filterArn="a", scenario="b", jobInput={"path": source}, jobOutput={"path": "out/x"}
    )
    assert two_scenarios.status_code == 400 and two_scenarios.json()["field"] == "scenario"
    unknown = post(
        solutionVersionArn="00000000-0000-0000-0000-000000000000",
        jobInput={"path": source},
        jobOutput={"path": "out/x"},
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "solutionVersionArn"
    both = post(deploymentId="web", jobInput={"path": source}, jobOutput={"path": "out/x"})
    assert both.status_code == 400
    # an explicit null path is no path (it was a 500: the length checked on None)
    for job_input, job_output in (
        ({"path": None}, {"path": "out/x"}),
        ({"path": source}, {"path": None}),
    ):
        null = post(jobInput=job_input, jobOutput=job_output)
        assert null.status_code == 400, null.text
    assert client.get("/api/batch-inference-jobs", headers=admin_headers).json() == {
        "batchInferenceJobs": [],
        "nextToken": None,
    }


def test_a_model_that_is_not_completed_is_a_409_naming_the_model(
    client: TestClient,
    admin_headers: dict[str, str],
    container: str,
    run_jobs: Callable[[], int],
    write_input: Callable[[str, list[Any]], str],
) -> None:
    source = write_input("u.jsonl", [{"userId": "user1"}])

    def model(usage: str) -> str:
        body = {"blobContainerName": container, "usageRelativePath": usage}
        created = client.post("/api/models", json=body, headers=admin_headers)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    failing = model("bad.csv")  # no valid line: its training fails
    assert run_jobs() == 1
    queued = model("usage.csv")  # not trained yet: still waiting for a worker
    for model_id, status in ((queued, "Created"), (failing, "Failed")):
        described = client.get(f"/api/models/{model_id}", headers=admin_headers).json()
        assert described["modelStatus"] == status, described
        answer = client.post(
            "/api/batch-inference-jobs",
            json={
                "jobName": "j",
                "solutionVersionArn": model_id,
                "jobInput": {"path": source},
                "jobOutput": {"path": "out/x"},
            },
            headers=admin_headers,
        )
        assert answer.status_code == 409, answer.text
        assert answer.json()["field"] == "solutionVersionArn"
        assert status in answer.json()["message"]
    listed = client.get("/api/batch-inference-jobs", headers=admin_headers).json()
    assert listed["batchInferenceJobs"] == []


def test_a_csv_input_is_scored_line_by_line_with_its_columns_carried(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    create_job: Callable[..., dict[str, Any]],
    run_jobs: Callable[[], int],
) -> None:
    path = settings.files_dir / "input" / "people.csv"
    path.write_text("userId,itemId,segment\nuser1,,a\n,item3,b\n,,c\nuser2,item5,d,extra\n")
    job = create_job(
        jobName="csv",
        solutionVersionArn=trained_model["id"],
        numResults=4,
        jobInput={"path": "input/people.csv"},
        jobOutput={"path": "output/people.jsonl"},
    )
    assert run_jobs() == 1
    done = describe(client, admin_headers, job["batchInferenceJobArn"])
    assert done["status"] == "ACTIVE", done
    assert done["progress"]["linesTotal"] == 4  # the header is not a line
    assert done["progress"]["linesFailed"] == 2
    out = read_lines(settings.files_dir / "output" / "people.jsonl")
    assert [o["input"] for o in out] == [
        {"userId": "user1", "itemId": "", "segment": "a"},
        {"userId": "", "itemId": "item3", "segment": "b"},
        ",,c",  # a line that cannot be answered keeps its raw text
        "user2,item5,d,extra",
    ]
    model = trained_model["id"]
    user = client.post(
        f"/api/models/{model}/recommend?userId=user1&recommendationCount=4", headers=admin_headers
    ).json()
    item = client.get(
        f"/api/models/{model}/recommend?itemId=item3&recommendationCount=4", headers=admin_headers
    ).json()
    assert out[0]["output"]["recommendedItems"] == [r["recommendedItemId"] for r in user]
    assert out[1]["output"]["recommendedItems"] == [r["recommendedItemId"] for r in item]
    assert len(out[0]["output"]["recommendedItems"]) == 4
    assert out[2]["output"] is None and "userId" in out[2]["error"]
    assert out[3]["output"] is None and "4 fields" in out[3]["error"]


def test_num_results_defaults_to_25(
    client: TestClient,
    admin_headers: dict[str, str],
    settings: Settings,
    write_input: Callable[[str, list[Any]], str],
    create_job: Callable[..., dict[str, Any]],
    run_jobs: Callable[[], int],
) -> None:
    # 60 items, each user touching 30: every item has far more than 25 neighbours
    write_usage(settings.files_dir / "input" / "wide.csv", users=40, items=60, per_user=30)
    created = client.post(
        "/api/models",
        json={"blobContainerName": "input", "usageRelativePath": "wide.csv"},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    assert run_jobs() == 1
    model = created.json()["id"]
    job = create_job(
        jobName="default-count",
        solutionVersionArn=model,
        jobInput={"path": write_input("items.jsonl", [{"itemId": "item1"}])},
        jobOutput={"path": "output/items.jsonl"},
    )
    assert job["numResults"] == 25
    assert run_jobs() == 1
    assert describe(client, admin_headers, job["batchInferenceJobArn"])["status"] == "ACTIVE"
    (line,) = read_lines(settings.files_dir / "output" / "items.jsonl")
    neighbours = client.get(
        f"/api/models/{model}/recommend?itemId=item1&recommendationCount=50",
        headers=admin_headers,
    ).json()
    assert len(neighbours) > 25  # more were there to give
    assert line["output"]["recommendedItems"] == [r["recommendedItemId"] for r in neighbours[:25]]
