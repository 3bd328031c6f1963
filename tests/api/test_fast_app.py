"""The hot path: plain requests answered before FastAPI, everything else through it.

``FastApp`` answers a bound route's plainly valid request itself; a request
its binder declines, or one whose endpoint raises, goes through FastAPI with
the body replayed, and gets FastAPI's answer. ``plain_events`` accepts only
what pydantic accepts, with the same values.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any
from urllib.parse import parse_qsl

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import QueryParams

from recostack.api.fast_route import ParsedQuery, parse_query
from recostack.api.schemas import UsageEventCreate
from recostack.api.usage_events import plain_events, usage_events

Headers = dict[str, str]
_EVENTS = TypeAdapter(list[UsageEventCreate])


class _CountingStack:
    """Stands in for FastAPI's middleware stack and counts the requests that reach it."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = app.middleware_stack or app.build_middleware_stack()
        self.http_requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.http_requests += 1
        await self.inner(scope, receive, send)


@pytest.fixture
def stack(client: TestClient, app: FastAPI, trained_model: dict[str, Any]) -> _CountingStack:
    """Counts what reaches FastAPI from now on (the model is trained already)."""
    counting = _CountingStack(app)
    app.middleware_stack = counting  # type: ignore[assignment]
    return counting


@pytest.fixture
def url(trained_model: dict[str, Any]) -> str:
    return f"/api/models/{trained_model['id']}/recommend"


def test_plain_requests_skip_fastapi(
    client: TestClient, stack: _CountingStack, recommend_headers: Headers, url: str
) -> None:
    item = client.get(url, params={"itemId": "item1"}, headers=recommend_headers)
    events = client.post(url, json=[{"itemId": "item2"}], headers=recommend_headers)
    assert item.status_code == events.status_code == 200
    assert len(item.json()) == 10
    assert stack.http_requests == 0


def test_declined_requests_get_fastapis_answer_with_the_body_replayed(
    client: TestClient, stack: _CountingStack, recommend_headers: Headers, url: str
) -> None:
    plain = client.post(url, json=[{"itemId": "item2"}], headers=recommend_headers)
    # snake_case keys are valid (populate_by_name) but not plain: FastAPI reads the body
    snake = client.post(url, json=[{"item_id": "item2"}], headers=recommend_headers)
    assert stack.http_requests == 1
    assert snake.status_code == 200
    assert snake.json() == plain.json()
    bad = client.post(url, json=[{"itemId": "item2", "weight": "x"}], headers=recommend_headers)
    assert bad.status_code == 400
    assert "weight" in bad.text
    assert stack.http_requests == 2


def test_an_endpoint_error_is_answered_by_fastapi(
    client: TestClient, stack: _CountingStack, recommend_headers: Headers
) -> None:
    missing = "/api/models/00000000-0000-0000-0000-000000000000/recommend"
    response = client.post(missing, json=[{"itemId": "item2"}], headers=recommend_headers)
    assert response.status_code == 404
    assert response.json()["field"] == "modelId"
    assert stack.http_requests == 1


def test_other_routes_go_to_fastapi(
    client: TestClient, stack: _CountingStack, admin_headers: Headers
) -> None:
    assert client.get("/api/models", headers=admin_headers).status_code == 200
    assert stack.http_requests == 1


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["Click", "purchase", " AddShopCart ", "Nope", "", "a" * 451]),
    st.sampled_from(
        [
            "2024-03-01T10:00:00",
            "2024-03-01T10:00:00Z",
            "2024-03-01T10:00:00.123+05:30",
            "2024-13-01T10:00:00",
            "2024-03-01",
            "1709287200",
        ]
    ),
    st.lists(st.integers(), max_size=2),
)
_EVENT = st.dictionaries(
    st.sampled_from(["itemId", "timestamp", "eventType", "weight", "item_id", "other"]),
    _VALUES,
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(body=st.lists(_EVENT, max_size=4) | _VALUES)
def test_plain_events_accepts_only_what_pydantic_accepts(body: Any) -> None:
    raw = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS) if _dumpable(body) else b"[nan]"
    plain = plain_events(raw)
    if plain is None:
        return
    try:
        validated = usage_events(_EVENTS.validate_json(raw))
    except ValidationError as exc:  # pragma: no cover - a disagreement is the failure
        raise AssertionError(f"plain_events accepted what pydantic refuses: {raw!r}") from exc
    assert [(e.item_id, e.event_type, e.weight) for e in plain] == [
        (e.item_id, e.event_type, e.weight) for e in validated
    ]
    for mine, theirs in zip(plain, validated, strict=True):
        if theirs.timestamp is None:
            assert mine.timestamp is None
        else:
            assert mine.timestamp is not None
            assert mine.timestamp.astimezone(UTC) == theirs.timestamp.astimezone(UTC)


def _dumpable(body: Any) -> bool:
    try:
        orjson.dumps(body)
    except TypeError:
        return False
    return True


def test_plain_events_reads_the_usual_body() -> None:
    events = plain_events(
        b'[{"itemId": "a", "timestamp": "2024-03-01T10:00:00", "eventType": "Purchase"},'
        b' {"itemId": "b", "weight": 2}]'
    )
    assert events is not None
    assert [e.item_id for e in events] == ["a", "b"]
    assert events[0].timestamp is not None and events[0].timestamp.tzinfo is UTC
    assert events[1].weight == 2.0 and isinstance(events[1].weight, float)
    assert plain_events(b"not json") is None
    assert plain_events(b'{"itemId": "a"}') is None


_QUERY_BITS = [b"a", b"Z", b"=", b"&", b"%", b"+", b"3A", b"2C", b"%3A", b"\xc3\xa9", b"\xff"]


@settings(max_examples=500, deadline=None)
@given(raw=st.lists(st.sampled_from(_QUERY_BITS), max_size=24).map(b"".join))
def test_parse_query_reads_like_starlette(raw: bytes) -> None:
    expected = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    assert parse_query(raw) == expected
    assert parse_query(raw) == expected  # and again, from the cache of decoded pieces


@settings(max_examples=300, deadline=None)
@given(
    raw=st.lists(st.sampled_from([*_QUERY_BITS, b"b", b"a=1", b"&a="]), max_size=24).map(b"".join)
)
def test_parsed_query_reads_like_starlettes_query_params(raw: bytes) -> None:
    ours, theirs = ParsedQuery(parse_query(raw)), QueryParams(raw)
    assert ours.multi_items() == theirs.multi_items()
    assert list(ours.keys()) == list(theirs.keys())
    for name in [*theirs.keys(), "missing"]:
        assert ours.get(name) == theirs.get(name)
        assert ours.get(name, "-") == theirs.get(name, "-")
        assert ours.getlist(name) == theirs.getlist(name)
        assert (name in ours) == (name in theirs)
    assert str(ours) == str(theirs)


def test_behind_a_proxy_prefix_plain_requests_still_skip_fastapi(
    app: FastAPI, stack: _CountingStack, recommend_headers: Headers, url: str
) -> None:
    with TestClient(app, root_path="/recostack") as proxied:
        answer = proxied.get(
            f"/recostack{url}", params={"itemId": "item1"}, headers=recommend_headers
        )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()) == 10
    assert stack.http_requests == 0
