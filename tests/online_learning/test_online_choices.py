"""Online learning's choices over HTTP: per-customer arms, the offer matrix, the cache duration,
parameters refused rather than ignored, and responses counted in the deployment's statistics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from conftest import wait_stable

from .conftest import PARAMETERS


def _create(client: TestClient, headers: dict[str, str], **parameters: Any) -> Any:
    return client.post("/api/online-learning", json={**PARAMETERS, **parameters}, headers=headers)


def _deploy(
    client: TestClient,
    headers: dict[str, str],
    model_id: str,
    config_id: str,
    deployment_id: str,
    **settings: Any,
) -> None:
    body = {
        "deploymentId": deployment_id,
        "version": "1",
        "modelId": model_id,
        "multi_armed_bandit": {"epsilon": 0, "duration": 0, "pulse_responder_id": config_id},
        **settings,
    }
    answer = client.post("/api/projects/bank/deployments", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    wait_stable(client, headers, deployment_id)


def _ask(client: TestClient, headers: dict[str, str], deployment_id: str, **body: Any) -> Any:
    return client.post(f"/api/deployments/{deployment_id}/recommend", json=body, headers=headers)


def _flush(client: TestClient) -> None:
    serving = client.app.state.serving  # type: ignore[attr-defined]
    serving.online.learner.flush()
    serving.prediction_logger.flush()


def test_parameters_accepted_and_unused_are_refused(
    client: TestClient, admin_headers: dict[str, str], online: Callable[..., Any]
) -> None:
    online()
    for bad, field, status in (
        (
            {"contextual_variables_tracking_key": "customer"},
            "contextual_variables_tracking_key",
            400,
        ),
        ({"contextual_variables_take_up": "accepted"}, "contextual_variables_take_up", 400),
        # the feature store names its offers by "offer", not "category"
        ({"contextual_variables_offer_key": "category"}, "contextual_variables_offer_key", 422),
        ({"per_customer_arms": True}, "per_customer_arms", 422),  # with a contextual variable
    ):
        answer = _create(client, admin_headers, name="refused", **bad)
        assert answer.status_code == status, answer.text
        assert answer.json()["field"] == field
    names = [c["name"] for c in client.get("/api/online-learning", headers=admin_headers).json()]
    assert "refused" not in names


def test_per_customer_arms(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
    trained_model: dict[str, Any],
) -> None:
    online()  # offers of collection "bank", a project "bank"
    store = client.post(
        "/api/online-learning/feature-store",
        json={
            "offer_collection": "bank",
            "offer_name_column": "offer",
            "setup_feature_store_collection": "every_offer",
        },
        headers=admin_headers,
    )
    assert store.status_code == 201, store.text
    created = _create(
        client,
        admin_headers,
        name="per-customer",
        feature_store_collection="every_offer",
        contextual_variables_contextual_variable_one_name="",
        per_customer_arms=True,
    )
    assert created.status_code == 201, created.text
    config_id = created.json()["id"]
    assert created.json()["per_customer_arms"] is True
    _deploy(client, admin_headers, trained_model["id"], config_id, "mine")
    first = _ask(client, recommend_headers, "mine", userId="ann", recommendationCount=2).json()
    assert first["onlineLearning"]["segment"] == "ann"
    assert len(first["items"]) == 2  # every offer is a candidate (o1..o4)
    taken = first["items"][0]["itemId"]
    answer = client.post(
        "/api/deployments/mine/responses",
        json={"requestId": first["requestId"], "itemId": taken, "takeUp": True},
        headers=recommend_headers,
    )
    assert answer.status_code == 201, answer.text
    bob = _ask(client, recommend_headers, "mine", userId="bob", recommendationCount=1).json()
    assert bob["onlineLearning"]["segment"] == "bob"
    _flush(client)
    arms = client.get(f"/api/online-learning/{config_id}/arms", headers=admin_headers).json()
    by_arm = {(a["offer"], a["segment"]): a for a in arms}
    # ann's arms learned from ann's answer only; bob's arm from bob's
    assert by_arm[(taken, "ann")]["taken_up"] == 1 and by_arm[(taken, "ann")]["alpha"] == 2.0
    assert sum(a["shown"] for (_, s), a in by_arm.items() if s == "ann") == 2
    assert sum(a["shown"] for (_, s), a in by_arm.items() if s == "bob") == 1
    # the customer is the segment: an anonymous request is refused, naming it
    anonymous = _ask(client, recommend_headers, "mine", recommendationCount=1)
    assert anonymous.status_code == 400 and anonymous.json()["field"] == "customerId"
    # the second answer to ann reads her arms again: the learned take-up counts
    ann = client.get(f"/api/online-learning/{config_id}/arms?segment=ann", headers=admin_headers)
    assert {a["offer"] for a in ann.json()} == {i["itemId"] for i in first["items"]}


def test_offer_matrix_and_cache_duration(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
    trained_model: dict[str, Any],
) -> None:
    online()
    # the deployment's offer matrix: another collection, offers named by "offer_name"
    matrix = "code,offer_name,channel\nx1,o1,email\nx2,o2,sms\nx3,o3,email\nx4,o4,sms\n"
    loaded = client.put("/api/offers/matrix?key=code", content=matrix, headers=admin_headers)
    assert loaded.status_code == 200, loaded.text
    created = _create(
        client, admin_headers, name="cached", randomisation_cache_duration=60_000
    ).json()
    _deploy(
        client,
        admin_headers,
        trained_model["id"],
        created["id"],
        "matrix",
        setup_offer_matrix={
            "datasource": "mongodb",
            "database": "recostack",
            "collection": "matrix",
            "offer_lookup_id": "offer_name",
        },
    )
    emails = _ask(
        client,
        recommend_headers,
        "matrix",
        context={"tier": "gold"},
        filters=["channel:eq:email"],
    ).json()
    assert {i["itemId"] for i in emails["items"]} == {"o1", "o3"}
    # randomisation_cache_duration caches a customer's answer when the deployment gives none
    first = _ask(client, recommend_headers, "matrix", userId="u1", context={"tier": "gold"})
    again = _ask(client, recommend_headers, "matrix", userId="u1", context={"tier": "gold"})
    assert again.json()["requestId"] == first.json()["requestId"]
    assert again.json()["cached"] is True


def test_responses_count_in_statistics(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
) -> None:
    online()
    start = datetime.now(UTC) - timedelta(minutes=1)
    answers = [
        _ask(client, recommend_headers, "nbo", userId=f"u{n}", context={"tier": "gold"}).json()
        for n in range(3)
    ]
    for answer, take_up in zip(answers, (True, True, False), strict=True):
        posted = client.post(
            "/api/deployments/nbo/responses",
            json={
                "requestId": answer["requestId"],
                "itemId": answer["items"][0]["itemId"],
                "takeUp": take_up,
            },
            headers=recommend_headers,
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["takeUp"] is take_up
    _flush(client)
    client.app.state.serving.statistics.flush()  # type: ignore[attr-defined]
    end = datetime.now(UTC) + timedelta(minutes=1)
    stats = client.get(
        "/api/deployments/nbo/statistics",
        params={"startDate": start.isoformat(), "endDate": end.isoformat()},
        headers=admin_headers,
    )
    assert stats.status_code == 200, stats.text
    summary = stats.json()["summary"]
    assert (summary["requests"], summary["responses"], summary["takeUps"]) == (3, 3, 2)
