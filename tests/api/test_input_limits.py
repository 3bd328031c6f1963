"""Every input limit answers 413 or 400 with a JSON body naming the problem, and leaves
what is stored as it was (issue 19, point 5): upload size (declared and streamed), CSV
line length, id lengths, JSON size and depth, list lengths."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from conftest import make_settings
from operations.prometheus_text import request_count, samples
from recostack.api.app import create_app
from recostack.api.customers import MAX_CSV_LINE
from recostack.api.inputs import MAX_EVENTS, MAX_RECORDS
from recostack.api.request_limits import json_depth
from recostack.data.ids import MAX_ITEM_ID_LENGTH, MAX_USER_ID_LENGTH
from recostack.settings import Settings
from recostack.store.engine import Database

Headers = dict[str, str]
MAX_UPLOAD = 4096
MAX_JSON = 64 * 1024
DEPTH = 16


@pytest.fixture
def limited(data_dir: Path, database_url: str, db: Database) -> Iterator[TestClient]:
    """The app with small limits (the store is the ``db`` fixture's)."""
    settings = make_settings(
        data_dir,
        database_url,
        max_upload_bytes=MAX_UPLOAD,
        max_json_bytes=MAX_JSON,
        max_json_depth=DEPTH,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def _refused(answer: Any, status: int, field: str, words: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["field"] == field, body
    assert words in body["message"], body


def test_json_depth_counts_arrays_and_objects_outside_strings() -> None:
    assert json_depth(b'{"a": [1, {"b": [[]]}]}', 2) == 5
    assert json_depth(b'{"a": "[[[[[[[[[[[[[[[["}', 2) == 1
    assert json_depth(b'["\\"[[[[", [[]]]', 2) == 3
    assert json_depth(b"[" * 3 + b"]" * 3, 3) == 0  # not over the limit: not scanned


def test_uploads_over_the_size_limit_are_413_and_keep_the_stored_file(
    limited: TestClient, admin_headers: Headers, settings: Settings
) -> None:
    url = "/api/files/input/usage.csv"
    assert limited.put(url, content=b"u1,i1\n", headers=admin_headers).status_code == 201
    declared = limited.put(url, content=b"x" * (MAX_UPLOAD + 1), headers=admin_headers)
    _refused(declared, 413, "body", f"the request body is over {MAX_UPLOAD} bytes")

    def stream() -> Iterator[bytes]:  # no Content-Length: refused as it streams
        for _ in range(8):
            yield b"y" * 1024

    streamed = limited.put(url, content=stream(), headers=admin_headers)
    _refused(streamed, 413, "body", f"the request body is over {MAX_UPLOAD} bytes")
    assert (settings.files_dir / "input" / "usage.csv").read_bytes() == b"u1,i1\n"
    assert [p.name for p in (settings.files_dir / "input").iterdir()] == ["usage.csv"]


def test_a_json_body_over_the_size_limit_is_413(
    limited: TestClient, admin_headers: Headers, stored_state: Callable[[], dict[str, Any]]
) -> None:
    before = stored_state()
    records = [{"customerId": f"c{i}", "fields": {"note": "z" * 200}} for i in range(400)]
    answer = limited.post("/api/customers/shop", json=records, headers=admin_headers)
    _refused(answer, 413, "body", f"the JSON body is over {MAX_JSON} bytes")
    assert stored_state() == before


def test_a_json_body_nested_too_deep_is_400(
    limited: TestClient, admin_headers: Headers, stored_state: Callable[[], dict[str, Any]]
) -> None:
    before = stored_state()
    nested: Any = "leaf"
    for _ in range(DEPTH + 5):
        nested = {"n": nested}
    body = [{"customerId": "c1", "fields": nested}]
    answer = limited.post("/api/customers/shop", json=body, headers=admin_headers)
    _refused(answer, 400, "body", f"nests {DEPTH + 7} arrays and objects deep; at most {DEPTH}")
    # 10,000 '[' in a row: refused before any parser recurses into it
    deep = limited.post(
        "/api/models/default/recommend",
        content=b"[" * 10_000 + b"]" * 10_000,
        headers={**admin_headers, "content-type": "application/json"},
    )
    _refused(deep, 400, "body", "nests 10000 arrays and objects deep")
    assert stored_state() == before


def test_ids_over_their_length_are_400_naming_them(
    limited: TestClient, admin_headers: Headers
) -> None:
    item = limited.get(
        "/api/models/default/recommend",
        params={"itemId": "i" * (MAX_ITEM_ID_LENGTH + 1)},
        headers=admin_headers,
    )
    _refused(item, 400, "itemId", f"at most {MAX_ITEM_ID_LENGTH} characters")
    user = limited.post(
        "/api/models/default/recommend",
        params={"userId": "u" * (MAX_USER_ID_LENGTH + 1)},
        json=[],
        headers=admin_headers,
    )
    _refused(user, 400, "userId", f"at most {MAX_USER_ID_LENGTH} characters")
    customer = limited.post(
        "/api/customers/shop",
        json=[{"customerId": "c" * (MAX_USER_ID_LENGTH + 1), "fields": {}}],
        headers=admin_headers,
    )
    assert customer.status_code == 400 and "customerId" in customer.json()["field"]


def test_lists_over_their_length_are_400_naming_them(
    client: TestClient, admin_headers: Headers, stored_state: Callable[[], dict[str, Any]]
) -> None:
    before = stored_state()
    events = [{"itemId": "item1"}] * (MAX_EVENTS + 1)
    answer = client.post("/api/models/default/recommend", json=events, headers=admin_headers)
    _refused(answer, 400, "body", f"at most {MAX_EVENTS} items")
    records = [{"customerId": f"c{i}", "fields": {}} for i in range(MAX_RECORDS + 1)]
    answer = client.post("/api/customers/shop", json=records, headers=admin_headers)
    _refused(answer, 400, "body", f"at most {MAX_RECORDS} items")
    offers = [{"offerId": f"o{i}", "fields": {}} for i in range(MAX_RECORDS + 1)]
    answer = client.post("/api/offers/bank", json=offers, headers=admin_headers)
    _refused(answer, 400, "body", f"at most {MAX_RECORDS} items")
    filters = [("filters", "category:eq:books")] * 65
    answer = client.get(
        "/api/models/default/recommend",
        params=[("itemId", "item1"), *filters],
        headers=admin_headers,
    )
    _refused(answer, 400, "filters", "at most 64 items")
    assert stored_state() == before


def test_a_csv_line_over_its_length_is_413_naming_the_line(
    client: TestClient, admin_headers: Headers, stored_state: Callable[[], dict[str, Any]]
) -> None:
    before = stored_state()
    text = "customerId,note\nc1,short\nc2," + "n" * MAX_CSV_LINE + "\n"
    answer = client.put(
        "/api/customers/shop",
        content=text.encode(),
        headers={**admin_headers, "content-type": "text/csv"},
    )
    _refused(answer, 413, "body", f"line 3 of the file is over {MAX_CSV_LINE} characters")
    assert stored_state() == before
    fits = "customerId,note\nc1," + "n" * (MAX_CSV_LINE - 3) + "\n"
    ok = client.put(
        "/api/customers/shop",
        content=fits.encode(),
        headers={**admin_headers, "content-type": "text/csv"},
    )
    assert ok.status_code == 200, ok.text
    assert orjson.loads(ok.content)["written"] == 1


def test_refusals_count_under_their_route_and_as_errors_of_the_deployment(
    limited: TestClient,
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    deploy(trained_model["id"])  # "web", ACTIVE (created through the unlimited app)
    path, route = "/api/deployments/web/recommend", "/api/deployments/{deployment_id}/recommend"
    for _ in range(1000):  # until the limited app, too, serves it
        if limited.get("/readyz").status_code == 200:
            break
        time.sleep(0.02)
    served = limited.post(path, json={"userId": "user1"}, headers=recommend_headers)
    assert served.status_code == 200, served.text
    before = limited.get("/metrics").text
    big = {"userId": "user1", "context": {"note": "z" * MAX_JSON}}
    _refused(
        limited.post(path, json=big, headers=recommend_headers),
        413,
        "body",
        f"the JSON body is over {MAX_JSON} bytes",
    )
    deep = limited.post(
        path,
        content=b"[" * (DEPTH + 1) + b"]" * (DEPTH + 1),
        headers={**recommend_headers, "content-type": "application/json"},
    )
    _refused(deep, 400, "body", f"at most {DEPTH} are accepted")
    upload = limited.put(
        "/api/files/input/big.csv", content=b"x" * (MAX_UPLOAD + 1), headers=admin_headers
    )
    _refused(upload, 413, "body", f"the request body is over {MAX_UPLOAD} bytes")
    after = limited.get("/metrics").text

    def sent(route: str, method: str, status: int) -> float:
        return request_count(after, route, method, status) - request_count(
            before, route, method, status
        )

    assert (sent(route, "POST", 413), sent(route, "POST", 400)) == (1, 1)
    assert sent("/api/files/{container}/{path:path}", "PUT", 413) == 1
    assert sent("unmatched", "POST", 413) == sent("unmatched", "POST", 400) == 0
    assert sent("unmatched", "PUT", 413) == 0
    label = '{deployment="web",status_class="4xx",version="1"}'
    errors_before = samples(before, "recostack_deployment_errors_total").get(label, 0.0)
    assert samples(after, "recostack_deployment_errors_total")[label] - errors_before == 2
    # and in the deployment's statistics over time (written by the app that refused them)
    limited.app.state.serving.prediction_logger.flush()  # type: ignore[attr-defined]
    limited.app.state.serving.statistics.flush()  # type: ignore[attr-defined]
    stats = client.get("/api/deployments/web/statistics", headers=admin_headers)
    assert stats.status_code == 200, stats.text
    summary = stats.json()["summary"]
    assert (summary["requests"], summary["errors4xx"], summary["errors5xx"]) == (3, 2, 0)
