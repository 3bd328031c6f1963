"""Off-policy evaluation of a candidate configuration: its window, count and decay count the
logged interactions, its cross-segment tries are the mixture serving applies, and the
parameters that cannot change the rank probabilities evaluated are refused, not ignored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from .test_policy_evaluation_api import RATES, _log_answers


def _evaluate(client: TestClient, headers: dict[str, str], **candidate: Any) -> Any:
    return client.post("/api/deployments/nbo/evaluate-policy", json=candidate, headers=headers)


def test_candidate_window_counts_the_logged_interactions(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
) -> None:
    online(epsilon=1)  # uniform logging over o1..o4 (gold), propensity 1/4
    _log_answers(client, recommend_headers, "nbo", 80, context={"tier": "gold"})
    live = _evaluate(client, admin_headers)
    assert live.status_code == 200, live.text
    logged = live.json()["loggedValue"]
    assert RATES["o3"] == 1.0 and logged > 0  # o3, logged with 1/4, is always taken up
    # the live arms learned o3: shown with probability ~1, each take-up weighs ~4
    assert live.json()["ipw"]["value"] > 3 * logged
    # a 1 ms window: no logged interaction counts at the end of the range, every arm is at
    # its prior Beta(1, 1) and the candidate ranks like the logging policy (1/4 each, up
    # to the simulation's 4,000 draws): IPW is the logged take-up rate
    fresh = _evaluate(client, admin_headers, randomisation_processing_window=1)
    assert fresh.status_code == 200, fresh.text
    assert abs(fresh.json()["ipw"]["value"] - logged) < 0.05


def test_candidate_across_segments_is_the_mixture(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
) -> None:
    online(epsilon=1)  # uniform logging: gold over o1..o4 (1/4), silver over o1, o2, o4 (1/3)
    taken = {"gold": "o3", "silver": "o1"}  # the offer each segment takes up
    hits = {"gold": 0, "silver": 0}
    for i in range(90):
        tier = ("gold", "silver")[i % 2]
        answer = client.post(
            "/api/deployments/nbo/recommend",
            json={"userId": f"user{i % 12}", "recommendationCount": 1, "context": {"tier": tier}},
            headers=recommend_headers,
        ).json()
        offer = answer["items"][0]["itemId"]
        hits[tier] += offer == taken[tier]
        client.post(
            "/api/deployments/nbo/responses",
            json={
                "requestId": answer["requestId"],
                "itemId": offer,
                "takeUp": offer == taken[tier],
            },
            headers=recommend_headers,
        ).raise_for_status()
    serving = client.app.state.serving  # type: ignore[attr-defined]
    serving.online.learner.flush()
    serving.prediction_logger.flush()
    assert hits["gold"] and hits["silver"]
    uniform = {"randomisation_epsilon": 1}
    plain = _evaluate(client, admin_headers, **uniform)
    assert plain.status_code == 200, plain.text
    # a uniform candidate shows each logged offer as the log did: every weight is 1
    assert abs(plain.json()["ipw"]["value"] - (hits["gold"] + hits["silver"]) / 90) < 1e-9
    across = _evaluate(
        client,
        admin_headers,
        **uniform,
        randomisation_test_options_across_segment=True,
        randomisation_cross_segment_epsilon=0.5,
    )
    assert across.status_code == 200, across.text
    # gold has every offer: nothing across. Silver tries o3 half the time: the candidate
    # shows o1 there with 1/2 · 1/3 + 1/2 · 1/4 = 7/24, a weight of (7/24) / (1/3) = 7/8
    expected = (hits["gold"] + 7 / 8 * hits["silver"]) / 90
    assert abs(across.json()["ipw"]["value"] - expected) < 1e-9
    # the setting alone (no cross_segment_epsilon) tries nothing across
    never = _evaluate(
        client, admin_headers, **uniform, randomisation_test_options_across_segment=True
    )
    assert abs(never.json()["ipw"]["value"] - plain.json()["ipw"]["value"]) < 1e-12


def test_parameters_the_evaluation_cannot_honour_are_refused(
    client: TestClient,
    admin_headers: dict[str, str],
    recommend_headers: dict[str, str],
    online: Callable[..., Any],
) -> None:
    online(epsilon=1)
    _log_answers(client, recommend_headers, "nbo", 8, context={"tier": "gold"})
    for name, value in (
        ("randomisation_cache_duration", 5000),
        ("randomisation_prior_success_reward", 2),
        ("randomisation_prior_fail_reward", 0.5),
        ("randomisation_discount_factor", 0.5),
    ):
        refused = _evaluate(client, admin_headers, **{name: value})
        assert refused.status_code == 400, refused.text
        assert refused.json()["field"] == name
    # the configuration's own value changes nothing: accepted
    same = _evaluate(client, admin_headers, randomisation_discount_factor=0.75)
    assert same.status_code == 200, same.text
