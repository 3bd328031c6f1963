"""The reference's deployment settings work as it says, or are refused naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

CRM = "customer,segment,age\n1001,gold,25\n1002,silver,70\n"
WHITELIST = "customer_key,white_list\n1001,item2;item3;item5\n"
SELECTOR = "customer,tier\n1001,b\n1002,a\n"


def _upload(client: TestClient, headers: dict[str, str], name: str, csv: str, key: str) -> None:
    answer = client.put(f"/api/customers/{name}?key={key}", content=csv, headers=headers)
    assert answer.status_code == 200, answer.text


def _create(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post(
        "/api/projects/shop/deployments",
        json={"deploymentId": "ref", "version": "1", **body},
        headers=headers,
    )


def test_whitelist_parameter_access_and_model_selector_in_the_reference_shape(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    project: str,
    trained_model: dict[str, Any],
    train: Callable[..., str],
) -> None:
    _upload(client, admin_headers, "crm", CRM, "customer")
    _upload(client, admin_headers, "wl", WHITELIST, "customer_key")
    _upload(client, admin_headers, "sel", SELECTOR, "customer")
    other = train(supportThreshold=4)
    created = _create(
        client,
        admin_headers,
        modelIds=[trained_model["id"], other],
        parameter_access={
            "datasource": "recostack",
            "table_collection": "crm",
            "lookup": {"key": "customer", "value": 123},
            "fields": "segment, age",
            "lookup_fields": ["age", "segment"],
            "create_virtual_variables": False,
        },
        whitelist={"datasource": "recostack", "database": "recostack", "collection": "wl"},
        model_selector={
            "table_collection": "sel",
            "selector_column": "tier",
            "selector": {"a": [0], "b": [1]},
            "lookup": {"key": "customer", "value": 123, "fields": "tier"},
        },
        complexity="Medium",
        performance_expectation="High",
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "PENDING"  # the create answer; loading happens in the background
    assert (body["complexity"], body["performanceExpectation"]) == ("Medium", "High")
    assert body["parameterAccess"]["collection"] == "crm"
    assert body["parameterAccess"]["fields"] == ["segment", "age"]
    for _ in range(500):
        if client.get("/api/deployments/ref", headers=admin_headers).json()["status"] == "ACTIVE":
            break
    path = "/api/deployments/ref/recommend"
    # customer 1001: the whitelist data set's list, the selector data set's model (tier b)
    alice = client.post(
        path, json={"customerId": "1001", "itemId": "item1"}, headers=recommend_headers
    ).json()
    assert alice["customerFound"] is True and alice["modelId"] == other
    assert {i["itemId"] for i in alice["items"]} <= {"item2", "item3", "item5"}
    # ids are numbers (lookup.value 123): 01001 is customer 1001
    same = client.post(
        path, json={"customerId": "01001", "itemId": "item1"}, headers=recommend_headers
    )
    assert same.json()["customerFound"] is True and same.json()["modelId"] == other
    bob = client.post(
        path, json={"customerId": "1002", "itemId": "item1"}, headers=recommend_headers
    ).json()
    assert bob["modelId"] == trained_model["id"]  # tier a; not in the whitelist: every item
    assert len(bob["items"]) > 3
    text = client.post(path, json={"customerId": "abc"}, headers=recommend_headers)
    assert text.status_code == 422 and text.json()["field"] == "customerId"


def test_what_cannot_work_is_refused_naming_it(
    client: TestClient, admin_headers: dict[str, str], project: str, trained_model: dict[str, Any]
) -> None:
    model = trained_model["id"]
    refused = {
        "whitelist": {"datasource": "mongodb", "database": "db", "collection": "wl"},
        "patternSelector": {"pattern": "1,3,7", "duration": "days"},
        "corpora": [
            {"database": "mongodb", "db": "x", "table": "y", "name": "z", "type": "static"}
        ],
        "complexity": "Extreme",
        "parameterAccess": {"table_collection": "crm", "unknown": 1},
    }
    for name, value in refused.items():
        answer = _create(client, admin_headers, modelId=model, **{name: value})
        assert answer.status_code == 400, (name, answer.text)
        assert answer.json()["field"].split(".")[0] in (name, _snake(name)), answer.json()
    contradictions = {
        "parameter_access.create_virtual_variables": {
            "parameterAccess": {"create_virtual_variables": True}
        },
        "parameter_access.lookup_fields": {
            "parameterAccess": {"fields": "a,b", "lookup_fields": ["a"]}
        },
        "model_selector.lookup.fields": {
            "modelSelector": {"selector_column": "tier", "lookup": {"fields": "segment"}}
        },
    }
    for field, body in contradictions.items():
        answer = _create(client, admin_headers, modelId=model, **body)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["field"] == field
    assert client.get("/api/projects/shop/deployments", headers=admin_headers).json() == []


def test_plugin_classes_name_the_pipeline_recostack_runs_or_are_refused(
    client: TestClient, admin_headers: dict[str, str], project: str, trained_model: dict[str, Any]
) -> None:
    model = trained_model["id"]
    refused = {
        "pluginPreScoreClass": ("PrePredictCustomerCustom.java", "PrePredictCustomer.java"),
        "pluginPostScoreClass": ("PostScoreNetwork.java", "PostScoreBasic.java"),
        "plugin_post_score_class": ("PlatformDynamicEngagement.java", "PostScoreBasic.java"),
    }
    for name, (value, allowed) in refused.items():
        answer = _create(client, admin_headers, modelId=model, **{name: value})
        assert answer.status_code == 400, (name, answer.text)
        body = answer.json()
        assert body["field"] in (name, _snake(name), _camel(name)), body
        assert allowed in body["message"], body
    assert client.get("/api/projects/shop/deployments", headers=admin_headers).json() == []
    created = _create(
        client,
        admin_headers,
        modelId=model,
        pluginPreScoreClass="PrePredictCustomer.java",
        plugin_post_score_class="PostScoreBasic.java",
    )
    assert created.status_code == 201, created.text
    described = client.get("/api/deployments/ref", headers=admin_headers).json()
    assert described["pluginPreScoreClass"] == "PrePredictCustomer.java"
    assert described["pluginPostScoreClass"] == "PostScoreBasic.java"


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def test_set_model_version_keeps_algorithm_and_model_deployment_config(
    client: TestClient,
    admin_headers: dict[str, str],
    web: dict[str, Any],
    train: Callable[..., str],
) -> None:
    newer = train(supportThreshold=4)
    path = "/api/deployments/web/set-model-version"
    wrong = client.post(
        path, json={"modelVersion": newer, "algorithm": "ease"}, headers=admin_headers
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "algorithm"
    answer = client.post(
        path,
        json={
            "modelVersion": newer,
            "algorithm": "sar",
            "modelDeploymentConfig": {"replicas": 2},
        },
        headers=admin_headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["modelDeploymentConfig"] == {"replicas": 2}
    for _ in range(500):
        body = client.get("/api/deployments/web", headers=admin_headers).json()
        if body["pendingModelVersion"] is None:
            break
    assert body["modelVersion"] == newer and body["algorithm"] == "sar"
    assert body["modelDeploymentConfig"] == {"replicas": 2}
