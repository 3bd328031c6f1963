"""One recommend pipeline: every surface answers alike, and every request passes the middleware.

The three surfaces (the model API, ``/api/recommendation/...`` and a
deployment) call the same pipeline; for the same model, rules and input
they give the same items, and the same scores where they show them. An
app with a counting ASGI middleware counts every request of a burst on
each recommend endpoint: none is answered before the middleware, none is
answered twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import ASGIApp, Receive, Scope, Send

from recostack.api.app import create_app
from recostack.settings import Settings
from recostack.store.engine import Database

Headers = dict[str, str]


class CountingMiddleware:
    """Counts the HTTP requests that reach it, by method and path."""

    def __init__(self, app: ASGIApp, counts: Counter[tuple[str, str]]) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.counts[(scope["method"], scope["path"])] += 1
        await self.app(scope, receive, send)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    app = create_app(settings)
    app.state.counts = Counter()
    app.add_middleware(CountingMiddleware, counts=app.state.counts)
    return app


@pytest.fixture
def deployed(
    deploy: Callable[..., dict[str, Any]], trained_model: dict[str, Any]
) -> dict[str, Any]:
    return deploy(trained_model["id"], "web")


def test_every_request_of_a_burst_passes_the_middleware(
    client: TestClient,
    app: FastAPI,
    admin_headers: Headers,
    recommend_headers: Headers,
    trained_model: dict[str, Any],
    deployed: dict[str, Any],
) -> None:
    model_id = trained_model["id"]
    client.put("/api/models/default", params={"modelId": model_id}, headers=admin_headers)
    events = [{"itemId": "item2", "eventType": "Purchase"}]
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/api/models/{model_id}/recommend", {"params": {"itemId": "item1"}}),
        ("GET", "/api/models/default/recommend", {"params": {"itemId": "item1"}}),
        ("POST", f"/api/models/{model_id}/recommend", {"json": events}),
        ("POST", "/api/models/default/recommend", {"json": events}),
        ("GET", "/api/recommendation/items/item1/items/", {}),
        ("GET", "/api/recommendation/users/user1/items/", {}),
        ("POST", "/api/recommendation/sessions/items/", {"json": events}),
        ("POST", "/api/deployments/web/recommend", {"json": {"itemId": "item1"}}),
        # plain and unusual, valid and not: all of them pass the middleware
        ("GET", f"/api/models/{model_id}/recommend", {"params": {"itemId": "item1", "x": "1"}}),
        ("GET", f"/api/models/{model_id}/recommend", {"params": {"recommendationCount": "0"}}),
        ("POST", "/api/deployments/web/recommend", {"json": {"itemId": ""}}),
    ]
    counts: Counter[tuple[str, str]] = app.state.counts
    counts.clear()
    burst = 50
    expected: Counter[tuple[str, str]] = Counter()
    for method, path, options in requests:
        for _ in range(burst):
            response = client.request(method, path, headers=recommend_headers, **options)
            assert response.status_code in (200, 400), response.text
        expected[(method, path)] += burst
    assert counts == expected


ITEMS = st.sampled_from([f"item{i}" for i in range(14)] + ["unknown"])
FILTERS = st.lists(
    st.sampled_from(["category:eq:books", "colour:neq:blue", "category:in:books,music"]),
    max_size=2,
    unique=True,
)
RERANKING = st.lists(st.sampled_from(["colour:diversity:1", "category:diversity:0.5"]), max_size=1)
USERS = st.sampled_from(["user1", "user5", "nobody", None])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    item=ITEMS,
    events=st.lists(ITEMS, max_size=4),
    filters=FILTERS,
    reranking=RERANKING,
    user=USERS,
    exclude=st.booleans(),
    count=st.integers(1, 12),
)
def test_the_three_surfaces_answer_alike(
    client: TestClient,
    recommend_headers: Headers,
    trained_model: dict[str, Any],
    deployed: dict[str, Any],
    item: str,
    events: list[str],
    filters: list[str],
    reranking: list[str],
    user: str | None,
    exclude: bool,
    count: int,
) -> None:
    model_id = trained_model["id"]
    rules: dict[str, Any] = {"filters": filters, "reranking": reranking}
    if exclude:
        rules["exclude_rated_items"] = "true"
    who = {} if user is None else {"userId": user}

    def get(path: str, **params: Any) -> Any:
        response = client.get(path, params=params, headers=recommend_headers)
        assert response.status_code == 200, response.text
        return response.json()

    def post(path: str, body: Any, **params: Any) -> Any:
        response = client.post(path, params=params, json=body, headers=recommend_headers)
        assert response.status_code == 200, response.text
        return response.json()

    def deployment(**body: Any) -> list[tuple[str, float]]:
        answer = post(
            "/api/deployments/web/recommend",
            {
                **body,
                **who,
                "filters": filters,
                "reranking": reranking,
                "excludeRatedItems": exclude,
                "recommendationCount": count,
            },
        )
        return [(i["itemId"], i["score"]) for i in answer["items"]]

    # item-to-item
    model_api = get(
        f"/api/models/{model_id}/recommend",
        itemId=item,
        recommendationCount=count,
        **who,
        **rules,
    )
    pairs = [(r["recommendedItemId"], r["score"]) for r in model_api]
    typed = get(
        f"/api/recommendation/items/{item}/items/",
        amt=count,
        model_id=model_id,
        **({} if user is None else {"user_id": user}),
        **rules,
    )
    assert typed["items_id"] == [i for i, _ in pairs]
    assert deployment(itemId=item) == pairs
    # personalized, from events and the stored history
    body = [{"itemId": e} for e in events]
    model_api = post(
        f"/api/models/{model_id}/recommend", body, recommendationCount=count, **who, **rules
    )
    pairs = [(r["recommendedItemId"], r["score"]) for r in model_api]
    typed = post(
        "/api/recommendation/sessions/items/",
        body,
        amt=count,
        model_id=model_id,
        **({} if user is None else {"user_id": user}),
        **rules,
    )
    assert typed["items_id"] == [i for i, _ in pairs]
    assert deployment(events=body) == pairs
