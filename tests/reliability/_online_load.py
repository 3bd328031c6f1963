"""Online learning over several replicas: answers and responses through the proxy, totals checked.

Used by ``test_replicas.py`` (a few thousand responses) and by
``bench/replicas.py`` (the issue's 30,000). Answers are asked through the
round-robin proxy, so each replica gives some; once every shown offer is
stored, the responses go through the proxy too, so most reach another
replica than the one that answered (checked against the store there). One
response in twenty is posted twice: it must count once. Then every arm's
counts and alpha/beta must equal what the responses imply, exactly (the
rewards are powers of two: the sums are exact in floating point).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine, text

from conftest import ADMIN_KEY, RECOMMEND_KEY

OFFERS_SHOWN = 4
OFFERS = 6


@dataclass(frozen=True)
class OnlineTotals:
    answers: int
    responses: int
    seconds: float
    #: offer -> (shown, taken up, declined, alpha - alpha0, beta - beta0), as stored
    stored: dict[str, tuple[float, ...]]
    #: the same, as the responses imply
    expected: dict[str, tuple[float, ...]]
    response_logs: int


def set_up_online(http: httpx.Client) -> None:
    """Offers, a feature store over them (segments by ``channel``) and the project."""
    offers = "offer,name\n" + "".join(f"o{i},Offer {i}\n" for i in range(OFFERS))
    http.put("/api/offers/shop?key=offer", content=offers).raise_for_status()
    http.post(
        "/api/online-learning/feature-store",
        json={
            "offer_collection": "shop",
            "offer_name_column": "offer",
            "contextual_variables": {"channel": ["web", "app"]},
            "setup_feature_store_collection": "fs",
        },
    ).raise_for_status()
    http.post("/api/projects", json={"projectId": "online"}).raise_for_status()


def add_online_deployment(http: httpx.Client, model_id: str, name: str) -> str:
    """A configuration named ``name`` and the deployment ``name`` linked to it (no epsilon of
    its own: the configuration's counts); the configuration's id."""
    config = http.post("/api/online-learning", json=configuration(name, epsilon=0.0))
    config.raise_for_status()
    config_id = str(config.json()["id"])
    http.post(
        "/api/projects/online/deployments",
        json={
            "deploymentId": name,
            "version": "1",
            "modelId": model_id,
            "multi_armed_bandit": {"duration": 0, "pulse_responder_id": config_id},
        },
    ).raise_for_status()
    return config_id


def configuration(name: str, *, epsilon: float, replace: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "description": "",
        "feature_store_collection": "fs",
        "feature_store_database": "recostack",
        "options_store_database": "recostack",
        "options_store_collection": "arms",
        "contextual_variables_offer_key": "offer",
        "contextual_variables_contextual_variable_one_name": "channel",
        "randomisation_learning_rate": 1,
        "randomisation_fail_reward": 0.5,
        "randomisation_success_reward": 2,
        "randomisation_processing_count": 10_000_000,
        "randomisation_random_action": 0,
        "randomisation_epsilon": epsilon,
        "replace": replace,
    }


def _parallel(threads: int, count: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(i)`` for i in range(count), spread over ``threads`` threads, in order."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(work, range(count)))


def run_online_load(
    proxy_url: str,
    engine: Engine,
    responses: int,
    deployment: str,
    config_id: str,
    *,
    threads: int = 8,
    timeout: float = 120,
) -> OnlineTotals:
    """Post ``responses`` responses to answers of ``deployment`` (a fresh one, linked to
    ``config_id``), answers asked first, all through the proxy; the totals."""
    shown_count = text("SELECT count(*) FROM online_interactions WHERE deployment_id = :d")
    logs_count = text("SELECT count(*) FROM response_logs WHERE deployment_id = :d")
    started = time.monotonic()
    firsts = responses - responses // 20
    answers = math.ceil(firsts / OFFERS_SHOWN)
    with engine.connect() as connection:
        before_shown = connection.scalar(shown_count, {"d": deployment}) or 0
        before_logs = connection.scalar(logs_count, {"d": deployment}) or 0
        assert before_shown == before_logs == 0, "run_online_load wants a fresh deployment"
    clients = [
        httpx.Client(base_url=proxy_url, headers={"x-api-key": RECOMMEND_KEY}, timeout=30)
        for _ in range(threads)
    ]

    def ask(n: int) -> tuple[str, list[str]]:
        body = {
            "userId": f"u{n % 97}",
            "recommendationCount": OFFERS_SHOWN,
            "context": {"channel": "web" if n % 3 else "app"},
        }
        got = clients[n % threads].post(f"/api/deployments/{deployment}/recommend", json=body)
        assert got.status_code == 200, got.text
        answer = got.json()
        return answer["requestId"], [item["itemId"] for item in answer["items"]]

    try:
        answered = _parallel(threads, answers, ask)
        expected_shown = answers * OFFERS_SHOWN
        deadline = time.monotonic() + timeout
        while True:  # every shown offer is stored before the responses go to other replicas
            with engine.connect() as connection:
                stored = connection.scalar(shown_count, {"d": deployment})
            if stored == expected_shown:
                break
            assert time.monotonic() < deadline, f"{stored} of {expected_shown} shown offers stored"
            time.sleep(0.1)
        plan = [
            (request_id, offer, (n + m) % 3 == 0)
            for n, (request_id, shown) in enumerate(answered)
            for m, offer in enumerate(shown)
        ][:firsts]
        plan += plan[::19][: responses - len(plan)]  # posted twice: learned once
        assert len(plan) == responses

        def respond(n: int) -> None:
            request_id, offer, take_up = plan[n]
            got = clients[n % threads].post(
                f"/api/deployments/{deployment}/responses",
                json={"requestId": request_id, "itemId": offer, "takeUp": take_up},
            )
            assert got.status_code == 201, got.text

        _parallel(threads, len(plan), respond)
    finally:
        for client in clients:
            client.close()

    first = {(q, o): t for q, o, t in reversed(plan)}  # the first response of each pair
    shown = Counter(o for _, offers in answered for o in offers)
    taken = Counter(o for (_, o), t in first.items() if t)
    declined = Counter(o for (_, o), t in first.items() if not t)
    expected = {
        o: (
            float(shown[o]),
            float(taken[o]),
            float(declined[o]),
            2.0 * taken[o],  # success_reward 2 per take-up
            0.5 * (shown[o] - taken[o]),  # fail_reward 0.5 otherwise
        )
        for o in shown
    }
    query = text(
        "SELECT offer, sum(shown), sum(taken_up), sum(declined), sum(alpha - alpha_zero), "
        "sum(beta - beta_zero) FROM online_arms WHERE config_id = :c GROUP BY offer"
    )
    deadline = time.monotonic() + timeout
    while True:  # the replicas write in batches: wait until every response is stored
        with engine.connect() as connection:
            logs = connection.scalar(logs_count, {"d": deployment}) or 0
            stored_arms = {
                str(r[0]): tuple(float(v) for v in r[1:])
                for r in connection.execute(query, {"c": config_id})
            }
        if logs >= len(plan) and stored_arms == expected:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return OnlineTotals(
        answers, len(plan), time.monotonic() - started, stored_arms, expected, int(logs)
    )


def admin_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"x-api-key": ADMIN_KEY}, timeout=30)
