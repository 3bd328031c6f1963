"""Dashboard pages over HTTP (no browser): sessions, CSRF, read-only sessions, and the A/B
groups' sizes and take-up counted from the deployments' logged answers."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi.testclient import TestClient

from conftest import ADMIN_KEY, RECOMMEND_KEY

Headers = dict[str, str]


def _sign_in(client: TestClient, key: str) -> str:
    """Sign in; the CSRF token of the session."""
    client.cookies.clear()
    answer = client.post("/login", data={"key": key}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    page = client.get("/jobs").text
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


def test_sessions_csrf_and_read_only(client: TestClient) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    refused = client.post("/login", data={"key": "nope"})
    assert refused.status_code == 401 and "nope" not in refused.text
    csrf = _sign_in(client, ADMIN_KEY)
    assert ADMIN_KEY not in client.get("/").text
    # a form without the session's token changes nothing
    body = '{"scenario_type": "case", "case": {"filters": []}}'
    forged = client.post("/scenarios/item_to_items/s1", data={"body": body, "csrf_token": "x"})
    assert forged.status_code == 403
    assert "s1" not in client.get("/scenarios").text
    saved = client.post(
        "/scenarios/item_to_items/s1",
        data={"body": body, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    # a read-only session reads, and is refused any change
    csrf = _sign_in(client, RECOMMEND_KEY)
    cookie = client.cookies.get("recostack_session")
    assert cookie and client.get("/models").status_code == 200
    refused = client.post("/scenarios/item_to_items/s2", data={"body": body, "csrf_token": csrf})
    assert refused.status_code == 403 and "Read-only" in refused.text
    # signing out closes the session on the server: the old cookie no longer works
    client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    client.cookies.set("recostack_session", cookie)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_ab_groups_and_their_take_up(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    trained_model: dict[str, Any],
) -> None:
    test_id = client.post(
        "/api/ab-tests/params", json={"name": "split", "probability_a": 0.5}, headers=admin_headers
    ).json()["id"]
    for name, body in (
        ("plain", {"scenario_type": "case", "case": {"filters": []}}),
        ("books", {"scenario_type": "case", "case": {"filters": ["category:eq:books"]}}),
        (
            "split",
            {
                "scenario_type": "ab_test",
                "ab_test": {"id": test_id, "scenario_a": "plain", "scenario_b": "books"},
            },
        ),
    ):
        put = client.put(f"/api/scenarios/item_to_items/{name}", json=body, headers=admin_headers)
        assert put.status_code in (200, 201), put.text
    assert client.put(
        "/api/scenarios-default/item_to_items", json={"name": "split"}, headers=admin_headers
    ).status_code in (200, 204)
    assert client.post("/api/projects", json={"projectId": "shop"}, headers=admin_headers)
    created = client.post(
        "/api/projects/shop/deployments",
        json={"deploymentId": "web", "version": "1", "modelId": trained_model["id"]},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 20
    while client.get("/api/deployments/web", headers=admin_headers).json()["status"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    groups: dict[str, list[str]] = {"A": [], "B": []}
    for n in range(40):
        answer = client.post(
            "/api/deployments/web/recommend",
            json={"userId": f"user{n}", "itemId": "item1"},
            headers=recommend_headers,
        ).json()
        groups[answer["scenario"]["ab_test"]["group"]].append(answer["requestId"])
    assert groups["A"] and groups["B"]
    taken = {"A": groups["A"][:3], "B": groups["B"][:1]}
    for request_ids in taken.values():
        for request_id in request_ids:
            logged = client.post(
                "/api/deployments/web/responses",
                json={"requestId": request_id, "takeUp": True},
                headers=recommend_headers,
            )
            assert logged.status_code == 201, logged.text
    client.app.state.serving.prediction_logger.flush(10)  # type: ignore[attr-defined]
    _sign_in(client, ADMIN_KEY)
    page = client.get("/scenarios").text
    table = page[page.index('id="ab-outcomes"') :]
    for group in ("A", "B"):
        row = re.search(rf"<td>{test_id}</td><td>{group}</td><td>(\d+)</td><td>(\d+)</td>", table)
        assert row is not None, table[:2000]
        assert (int(row.group(1)), int(row.group(2))) == (len(groups[group]), len(taken[group]))
    # failed requests of the deployment are among the overview's recent errors
    for _ in range(2):
        refused = client.post(
            "/api/deployments/web/recommend", content=b"not json", headers=recommend_headers
        )
        assert refused.status_code in (400, 422), refused.text
    overview = client.get("/").text
    assert re.search(r">web</a>: 2 client errors \(4xx\) and 0 server errors", overview), overview


def test_batch_jobs_with_their_progress_and_failures(
    client: TestClient,
    admin_headers: Headers,
    trained_model: dict[str, Any],
    settings: Any,
    run_jobs: Any,
) -> None:
    source = settings.files_dir / "input" / "users.jsonl"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text('{"userId": "user1"}\nnot json\n{"itemId": "item3"}\n')
    (source.parent / "gone.jsonl").write_text('{"userId": "user1"}\n')
    for name, path in (("nightly", "input/users.jsonl"), ("broken", "input/gone.jsonl")):
        created = client.post(
            "/api/batch-inference-jobs",
            json={
                "jobName": name,
                "solutionVersionArn": trained_model["id"],
                "jobInput": {"s3DataSource": {"path": path}},
                "jobOutput": {"s3DataDestination": {"path": f"output/{name}/"}},
            },
            headers=admin_headers,
        )
        assert created.status_code == 201, created.text
    (source.parent / "gone.jsonl").unlink()  # removed before a worker reads it
    run_jobs()
    _sign_in(client, RECOMMEND_KEY)
    page = client.get("/jobs").text
    table = page[page.index('id="batch-table"') : page.index('id="campaign-table"')]
    rows = {row.split("</td>")[0].split("<td>")[-1]: row for row in table.split("<tr>")[2:]}
    assert set(rows) == {"nightly", "broken"}
    assert 'max="3" value="3"' in rows["nightly"] and "3 / 3" in rows["nightly"]
    assert ">1</td>" in rows["nightly"]  # the line that is not JSON
    assert "ACTIVE" in rows["nightly"]
    assert "CREATE FAILED" in rows["broken"] and "gone.jsonl" in rows["broken"]
    assert "No campaign yet." in page
    errors = client.get("/").text
    errors = errors[errors.index('id="recent-errors"') :]
    assert "Batch job <a" in errors and "broken</a> failed" in errors and "gone.jsonl" in errors
