"""The deployment recommend path: lookup → selector → defaults → whitelist → rules → answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

CUSTOMERS = "customer,segment,age,white_list\nalice,gold,25,item2;item3;item5\nbob,silver,70,\n"


def _ask(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = client.post("/api/deployments/web/recommend", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _ids(answer: dict[str, Any]) -> list[str]:
    return [item["itemId"] for item in answer["items"]]


def test_customer_lookup_selector_whitelist_and_defaults(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    train: Callable[..., str],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    loaded = client.put("/api/customers/crm?key=customer", content=CUSTOMERS, headers=admin_headers)
    assert loaded.status_code == 200 and loaded.json()["written"] == 2
    stored = client.get("/api/customers/crm/alice", headers=admin_headers).json()
    assert stored["fields"]["age"] == 25 and stored["fields"]["segment"] == "gold"
    gold_model = train(supportThreshold=4)
    deploy(
        trained_model["id"],
        model_ids=[trained_model["id"], gold_model],
        parameter_access={
            "collection": "crm",
            "lookup_defaults": {"segment": "gold"},
            "virtual_variables": {
                "band": {
                    "type": "bins",
                    "field": "age",
                    "bins": [30, 60],
                    "labels": ["young", "mid", "old"],
                }
            },
        },
        model_selector={"lookup_field": "segment", "selector": {"gold": [1], "silver": [0]}},
        whitelist={"field": "white_list", "when_missing": "all"},
        default_prediction_arguments={"recommendationCount": 4},
    )
    alice = _ask(
        client,
        recommend_headers,
        userId="alice",
        itemId="item1",
        context={"page": "home"},
        channel="web",
    )
    assert alice["modelId"] == gold_model and alice["customerFound"] is True
    assert set(_ids(alice)) <= {"item2", "item3", "item5"} and _ids(alice)
    assert [i["rank"] for i in alice["items"]] == list(range(1, len(alice["items"]) + 1))
    bob = _ask(client, recommend_headers, userId="bob", itemId="item1")
    assert bob["modelId"] == trained_model["id"]
    assert len(bob["items"]) == 4  # the default count; an empty whitelist field means no list
    stranger = _ask(
        client, recommend_headers, customerId="nobody", itemId="item1", recommendationCount=2
    )
    assert stranger["customerFound"] is False
    assert stranger["modelId"] == gold_model  # lookup_defaults choose the model
    assert len(stranger["items"]) == 2  # the request wins over a default
    # a customer added through the API is seen at once (the cache is dropped)
    client.post(
        "/api/customers/crm",
        json=[{"customerId": "nobody", "fields": {"segment": "silver"}}],
        headers=admin_headers,
    )
    client.app.state.serving.poller.poll()  # type: ignore[attr-defined]
    assert (
        _ask(client, recommend_headers, customerId="nobody", itemId="item1")["modelId"]
        == trained_model["id"]
    )


def test_overrides_rules_and_events(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    deploy(trained_model["id"], business_rules={"filters": ["category:eq:books"]})
    books = _ask(client, recommend_headers, itemId="item1")
    assert books["items"] and all(int(i[4:]) % 2 == 1 for i in _ids(books))
    narrowed = _ask(client, recommend_headers, itemId="item1", filters=["colour:eq:red"])
    assert all(int(i[4:]) % 3 != 0 and int(i[4:]) % 2 == 1 for i in _ids(narrowed))
    updated = client.put(
        "/api/deployments/web/default-prediction-arguments",
        json={"predictionArguments": {"recommendationCount": 2}, "setAsOverride": True},
        headers=admin_headers,
    )
    assert updated.json()["setAsOverride"] is True
    overridden = _ask(client, recommend_headers, itemId="item1", recommendationCount=5)
    assert len(overridden["items"]) == 2  # the override wins over the request
    personal = _ask(
        client,
        recommend_headers,
        userId="user1",
        events=[{"itemId": "item3", "eventType": "Purchase"}],
    )
    assert len(personal["items"]) == 2
    bad = client.post(
        "/api/deployments/web/recommend", json={"recommendationCount": 0}, headers=recommend_headers
    )
    assert bad.status_code == 400 and bad.json()["field"] == "recommendationCount"
    unknown_scenario = client.post(
        "/api/deployments/web/recommend",
        json={"itemId": "item1", "scenario": "nope"},
        headers=recommend_headers,
    )
    assert unknown_scenario.status_code == 404
    assert (
        client.post(
            "/api/deployments/nope/recommend", json={}, headers=recommend_headers
        ).status_code
        == 404
    )


def test_a_missing_customer_gets_every_lookup_default_the_whitelist_too(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    """Regression: the defaults are "to be used if the customer lookup fails"; a missing
    customer used to get unrestricted items while the model selector used the defaults."""
    loaded = client.put("/api/customers/crm?key=customer", content=CUSTOMERS, headers=admin_headers)
    assert loaded.status_code == 200
    deploy(
        trained_model["id"],
        parameter_access={
            "collection": "crm",
            "lookup_defaults": {"white_list": "item4;item6"},
        },
        whitelist={"field": "white_list", "when_missing": "all"},
    )
    stranger = _ask(client, recommend_headers, customerId="nobody", itemId="item1")
    assert stranger["customerFound"] is False
    assert set(_ids(stranger)) == {"item4", "item6"}
    # a found customer without the field gets the default list, one with a list keeps it
    bob = _ask(client, recommend_headers, userId="bob", itemId="item1")
    assert set(_ids(bob)) == {"item4", "item6"}
    alice = _ask(client, recommend_headers, userId="alice", itemId="item1")
    assert set(_ids(alice)) <= {"item2", "item3", "item5"} and _ids(alice)
