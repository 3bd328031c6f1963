"""Online learning through the API: configurations, scoring by segment, learning, reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from .conftest import PARAMETERS


def _ask(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/deployments/nbo/recommend", json=body, headers=headers)


def _arms(
    client: TestClient, headers: dict[str, str], config_id: str
) -> dict[tuple[str, str], Any]:
    client.app.state.serving.online.learner.flush()  # type: ignore[attr-defined]
    rows = client.get(f"/api/online-learning/{config_id}/arms", headers=headers).json()
    return {(r["offer"], r["segment"]): r for r in rows}


def test_configuration_parameters(
    client: TestClient, admin_headers: dict[str, str], online: Callable[..., Any]
) -> None:
    online()
    listed = client.get("/api/online-learning", headers=admin_headers).json()
    assert [c["name"] for c in listed] == ["offers-bandit"]
    config = listed[0]
    # every parameter with the reference's default
    assert config["randomisation_processing_window"] == 86400000
    assert config["randomisation_discount_factor"] == 0.75
    assert config["score_connection"] == "http://ecosystem-runtime:8091"
    again = client.post("/api/online-learning", json=PARAMETERS, headers=admin_headers)
    assert again.status_code == 409
    replaced = client.post(
        "/api/online-learning", json={**PARAMETERS, "replace": True}, headers=admin_headers
    )
    assert replaced.status_code == 201 and replaced.json()["id"] == config["id"]
    for bad, field in (
        ({"randomisation_epsilon": 2}, "randomisation_epsilon"),
        ({"algorithm": "linucb"}, "algorithm"),
        (
            {"contextual_variables_contextual_variable_three_name": "x"},
            "contextual_variables_contextual_variable_three_name",
        ),
    ):
        answer = client.post(
            "/api/online-learning", json={**PARAMETERS, "name": "x", **bad}, headers=admin_headers
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["field"] == field
    assert client.get("/api/online-learning/nope", headers=admin_headers).status_code == 404
    # the deployment uses it: no delete
    assert (
        client.delete(f"/api/online-learning/{config['id']}", headers=admin_headers).status_code
        == 409
    )


def test_scoring_learning_and_reports(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
) -> None:
    config_id = online()["config_id"]
    silver = _ask(client, recommend_headers, userId="u1", context={"tier": "silver"})
    assert silver.status_code == 200, silver.text
    body = silver.json()
    # o3 is only configured for gold
    assert {i["itemId"] for i in body["items"]} == {"o1", "o2", "o4"}
    assert body["onlineLearning"]["segment"] == "silver"
    for item in body["items"]:
        assert 0 < item["propensity"] <= 1 and item["explored"] is False
        assert item["armReward"] == item["score"]
    gold = _ask(client, recommend_headers, userId="u2", context={"tier": "gold"}).json()
    assert len(gold["items"]) == 4
    # bad contexts: a 400 naming the variable
    for context in ({}, {"tier": "bronze"}):
        answer = _ask(client, recommend_headers, userId="u3", context=context)
        assert answer.status_code == 400 and answer.json()["field"] == "context.tier"
    # filters still apply, on the offers' attributes
    banks = _ask(client, recommend_headers, context={"tier": "gold"}, filters=["category:eq:bank"])
    assert {i["itemId"] for i in banks.json()["items"]} == {"o1", "o3"}
    # responses: a take-up of a shown offer learns; twice counts once
    request_id, top = body["requestId"], body["items"][0]["itemId"]
    before = _arms(client, admin_headers, config_id)[(top, "silver")]
    assert before["shown"] == 1 and before["beta"] == 1.5  # shown, not taken up: + fail_reward
    for _ in range(2):
        answer = client.post(
            "/api/deployments/nbo/responses",
            json={"requestId": request_id, "itemId": top, "takeUp": True},
            headers=recommend_headers,
        )
        assert answer.status_code == 201, answer.text
    after = _arms(client, admin_headers, config_id)[(top, "silver")]
    assert (after["alpha"], after["beta"], after["taken_up"]) == (2.0, 1.0, 1)
    assert after["propensity"] == 1.0
    not_shown = client.post(
        "/api/deployments/nbo/responses",
        json={"requestId": request_id, "itemId": "o3", "takeUp": True},
        headers=recommend_headers,
    )
    assert not_shown.status_code == 422 and not_shown.json()["field"] == "itemId"
    # a reward is capped at max_reward (10) and scaled by the learning rate (1)
    other = body["items"][1]["itemId"]
    client.post(
        "/api/deployments/nbo/responses",
        json={"requestId": request_id, "itemId": other, "reward": 50},
        headers=recommend_headers,
    )
    assert _arms(client, admin_headers, config_id)[(other, "silver")]["alpha"] == 11.0
    # the responses are in the response log too
    client.app.state.serving.prediction_logger.flush()  # type: ignore[attr-defined]
    logged = client.get("/api/deployments/nbo/response-logs", headers=admin_headers).json()
    assert len(logged) == 3
    report = client.get("/api/deployments/nbo/exploration-report", headers=admin_headers).json()
    assert report["answers"] == 3 and 0 <= report["meanExplorationProbability"] <= 1
    evaluation = client.post(
        "/api/deployments/nbo/evaluate-policy",
        json={"randomisation_epsilon": 0.5},
        headers=admin_headers,
    )
    assert evaluation.status_code == 200, evaluation.text
    result = evaluation.json()
    assert result["rounds"] == 9 and result["effectiveSampleSize"] > 0
    assert result["dr"]["lower"] <= result["dr"]["value"] <= result["dr"]["upper"]


def test_epsilon_explores_and_duration_caches(
    client: TestClient, recommend_headers: dict[str, str], online: Callable[..., Any]
) -> None:
    online(epsilon=1, duration=60_000)
    first = _ask(client, recommend_headers, userId="u1", context={"tier": "gold"}).json()
    assert all(i["explored"] for i in first["items"])
    assert all(abs(i["propensity"] - 0.25) < 1e-9 for i in first["items"])  # 1 / 4 offers
    again = _ask(client, recommend_headers, userId="u1", context={"tier": "gold"}).json()
    assert again["requestId"] == first["requestId"] and again["cached"] is True
    # the same answer, every field of it (an SDK reads a cached answer as any other)
    assert again == {**first, "cached": True}


def test_an_answer_and_its_response_are_in_the_logs_at_once(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Any,
) -> None:
    # the writers write once a second; a log page writes what this process queued first
    online()
    answer = _ask(client, recommend_headers, userId="u1", context={"tier": "gold"}).json()
    logged = client.get("/api/deployments/nbo/prediction-logs", headers=admin_headers).json()
    assert [r["requestId"] for r in logged] == [answer["requestId"]]
    offer = answer["items"][0]["itemId"]
    response = client.post(
        "/api/deployments/nbo/responses",
        json={"requestId": answer["requestId"], "itemId": offer, "takeUp": True},
        headers=recommend_headers,
    )
    assert response.status_code == 201, response.text
    logged = client.get("/api/deployments/nbo/response-logs", headers=admin_headers).json()
    assert [(r["requestId"], r["itemId"]) for r in logged] == [(answer["requestId"], offer)]
