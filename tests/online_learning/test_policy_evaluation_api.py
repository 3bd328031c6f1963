"""Off-policy evaluation over HTTP: require_policy_evaluation's 409, a model-backed deployment's
top-k as the candidate, and the window of answers read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from conftest import wait_stable

from .conftest import PARAMETERS

#: the take-up rate of each offer in the simulated population (gold customers)
RATES = {"o1": 0.0, "o2": 0.0, "o3": 1.0, "o4": 0.0}


def _log_answers(
    client: TestClient, headers: dict[str, str], deployment_id: str, n: int, **body: Any
) -> None:
    """``n`` answers of one offer each, every one responded to as ``RATES`` says."""
    for i in range(n):
        answer = client.post(
            f"/api/deployments/{deployment_id}/recommend",
            json={"userId": f"user{i % 12}", "recommendationCount": 1, **body},
            headers=headers,
        ).json()
        offer = answer["items"][0]["itemId"]
        posted = client.post(
            f"/api/deployments/{deployment_id}/responses",
            json={"requestId": answer["requestId"], "itemId": offer, "takeUp": RATES[offer] > 0},
            headers=headers,
        )
        assert posted.status_code == 201, posted.text
    serving = client.app.state.serving  # type: ignore[attr-defined]
    serving.online.learner.flush()
    serving.prediction_logger.flush()


def test_require_policy_evaluation(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
) -> None:
    online(epsilon=1)  # the logging policy ranks at random: every offer is logged
    _log_answers(client, recommend_headers, "nbo", 80, context={"tier": "gold"})
    before = client.get("/api/online-learning/offers-bandit", headers=admin_headers).json()
    # a candidate that explores at random is worse than the live one, which learned o3
    worse = {**PARAMETERS, "randomisation_epsilon": 1, "replace": True}
    refused = client.post(
        "/api/online-learning",
        json={**worse, "require_policy_evaluation": True},
        headers=admin_headers,
    )
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["field"] == "require_policy_evaluation"
    figures = body["detail"]
    assert figures["candidate"]["lower"] < figures["live"]["lower"]
    # the live arms show o3 (always taken, logged at 1/4) with probability ~1: ~4x the
    # random candidate, whatever share of the 80 uniform answers showed o3
    assert figures["live"]["value"] > 2.5 * figures["candidate"]["value"] > 0
    for side in ("candidate", "live"):
        assert set(figures[side]) == {"value", "lower", "upper"}
    after = client.get("/api/online-learning/offers-bandit", headers=admin_headers).json()
    assert after["randomisation_epsilon"] == before["randomisation_epsilon"] == 0
    # the same parameters are as good as the live ones: accepted, with both figures
    same = {**PARAMETERS, "replace": True, "require_policy_evaluation": True}
    accepted = client.post("/api/online-learning", json=same, headers=admin_headers)
    assert accepted.status_code == 201, accepted.text
    evaluation = accepted.json()["policyEvaluation"]
    assert evaluation["candidate"]["lower"] >= evaluation["live"]["lower"]
    # without it, the worse candidate replaces the live one
    replaced = client.post("/api/online-learning", json=worse, headers=admin_headers)
    assert replaced.status_code == 201 and replaced.json()["randomisation_epsilon"] == 1


def test_model_backed_deployment_as_candidate(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    trained_model: dict[str, Any],
) -> None:
    # offers that are the model's items: a model-backed deployment can rank them
    offers = "offer,name\n" + "".join(f"item{i},Item {i}\n" for i in range(6))
    assert client.put("/api/offers/items?key=offer", content=offers, headers=admin_headers)
    client.post(
        "/api/online-learning/feature-store",
        json={
            "offer_collection": "items",
            "offer_name_column": "offer",
            "setup_feature_store_collection": "items_fs",
        },
        headers=admin_headers,
    ).raise_for_status()
    config_id = client.post(
        "/api/online-learning",
        json={
            **PARAMETERS,
            "name": "items-bandit",
            "feature_store_collection": "items_fs",
            "contextual_variables_contextual_variable_one_name": "",
        },
        headers=admin_headers,
    ).json()["id"]
    assert client.post("/api/projects", json={"projectId": "shop"}, headers=admin_headers)
    for name, settings in (
        ("bandit", {"multi_armed_bandit": {"epsilon": 1, "pulse_responder_id": config_id}}),
        ("model", {}),
    ):
        created = client.post(
            "/api/projects/shop/deployments",
            json={"deploymentId": name, "version": "1", "modelId": trained_model["id"], **settings},
            headers=admin_headers,
        )
        assert created.status_code == 201, created.text
        wait_stable(client, admin_headers, name)
    shown: list[tuple[str, str]] = []
    for i in range(60):
        user = f"user{i % 12}"
        answer = client.post(
            "/api/deployments/bandit/recommend",
            json={"userId": user, "recommendationCount": 1},
            headers=recommend_headers,
        ).json()
        offer = answer["items"][0]["itemId"]
        shown.append((user, offer))
        client.post(
            "/api/deployments/bandit/responses",
            json={"requestId": answer["requestId"], "itemId": offer, "takeUp": offer == "item1"},
            headers=recommend_headers,
        ).raise_for_status()
    serving = client.app.state.serving  # type: ignore[attr-defined]
    serving.online.learner.flush()
    serving.prediction_logger.flush()
    evaluation = client.post(
        "/api/deployments/bandit/evaluate-policy",
        json={"candidateDeploymentId": "model", "maxAnswers": 50},
        headers=admin_headers,
    )
    assert evaluation.status_code == 200, evaluation.text
    result = evaluation.json()
    # the window: the newest 50 of the 60 answers
    assert result["window"]["answers"] == 50 and result["window"]["truncated"] is True
    assert result["rounds"] == 50
    # a deterministic candidate: IPW is the take-ups where it agrees with the log, weighted
    # by 1 / propensity (1/6 for each uniform logged answer)
    model_top = {}
    for user in {u for u, _ in shown[-50:]}:
        top = client.post(
            "/api/deployments/model/recommend",
            json={"userId": user, "recommendationCount": 100},
            headers=recommend_headers,
        ).json()["items"]
        model_top[user] = next(
            i["itemId"] for i in top if i["itemId"] in {f"item{k}" for k in range(6)}
        )
    agree = [offer == model_top[user] and offer == "item1" for user, offer in shown[-50:]]
    assert abs(result["ipw"]["value"] - 6 * sum(agree) / 50) < 1e-9
    assert result["effectiveSampleSize"] > 0
    assert result["ipw"]["lower"] <= result["ipw"]["value"] <= result["ipw"]["upper"]
    # a candidate is a deployment or a configuration, and a model-backed one
    both = client.post(
        "/api/deployments/bandit/evaluate-policy",
        json={"candidateDeploymentId": "model", "randomisation_epsilon": 0.5},
        headers=admin_headers,
    )
    assert both.status_code == 422 and both.json()["field"] == "candidateDeploymentId"
    itself = client.post(
        "/api/deployments/bandit/evaluate-policy",
        json={"candidateDeploymentId": "bandit"},
        headers=admin_headers,
    )
    assert itself.status_code == 422 and itself.json()["field"] == "candidateDeploymentId"
    missing = client.post(
        "/api/deployments/bandit/evaluate-policy",
        json={"candidateDeploymentId": "nope"},
        headers=admin_headers,
    )
    assert missing.status_code == 404
