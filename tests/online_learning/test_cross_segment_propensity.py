"""The logged propensity under cross-segment tries is the mixture of the two rankings the call
draws between: (1 - c) · P(offer at rank | own offers) + c · P(offer at rank | every offer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from conftest import wait_stable

from .conftest import PARAMETERS


def test_propensity_mixes_own_and_cross_segment_rankings(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
    trained_model: dict[str, Any],
) -> None:
    online()  # offers o1..o4; gold: o1..o4, silver: o1, o2, o4 (o3 is gold's only)
    created = client.post(
        "/api/online-learning",
        json={
            **PARAMETERS,
            "name": "across",
            "randomisation_test_options_across_segment": True,
            "randomisation_cross_segment_epsilon": 0.25,
        },
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    answer = client.post(
        "/api/projects/bank/deployments",
        json={
            "deploymentId": "across",
            "version": "1",
            "modelId": trained_model["id"],
            # every call ranks at random: each ranking's probabilities are exact (1/n a rank)
            "multi_armed_bandit": {
                "epsilon": 1,
                "duration": 0,
                "pulse_responder_id": created.json()["id"],
            },
        },
        headers=admin_headers,
    )
    assert answer.status_code == 201, answer.text
    wait_stable(client, admin_headers, "across")
    # silver: own o1, o2, o4 (1/3 a rank), every offer o1..o4 (1/4 a rank), c = 1/4:
    # an own offer 3/4 · 1/3 + 1/4 · 1/4 = 5/16, o3 (across only) 1/4 · 1/4 = 1/16
    expected = {"o1": 5 / 16, "o2": 5 / 16, "o4": 5 / 16, "o3": 1 / 16}
    seen: set[str] = set()
    for i in range(120):
        body = client.post(
            "/api/deployments/across/recommend",
            json={"userId": f"u{i}", "recommendationCount": 2, "context": {"tier": "silver"}},
            headers=recommend_headers,
        ).json()
        for item in body["items"]:
            assert abs(item["propensity"] - expected[item["itemId"]]) < 1e-12, item
            assert item["explored"] is True
            seen.add(item["itemId"])
    assert seen == set(expected)  # the cross-segment offer was tried (p = 1 - (7/8)^120)
    # gold has every offer: nothing across, the own ranking's 1/4
    gold = client.post(
        "/api/deployments/across/recommend",
        json={"userId": "g", "recommendationCount": 2, "context": {"tier": "gold"}},
        headers=recommend_headers,
    ).json()
    assert [i["propensity"] for i in gold["items"]] == [0.25, 0.25]
    # the log keeps the same propensities for off-policy evaluation
    serving = client.app.state.serving  # type: ignore[attr-defined]
    serving.online.learner.flush()
    serving.prediction_logger.flush()
    evaluator = client.app.state.online_learning.evaluator  # type: ignore[attr-defined]
    logged = evaluator.logged("across", None, None).answers
    silver = [a for a in logged if a.context["onlineLearning"]["segment"] == "silver"]
    assert len(silver) == 120
    for answer in silver:
        for item in answer.items:
            assert abs(item["propensity"] - expected[item["itemId"]]) < 1e-12
