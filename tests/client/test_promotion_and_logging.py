"""Under load: a model switch fails no request, and a 10k-request burst loses no log record."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import select

from conftest import RECOMMEND_KEY
from recostack.serving.deployments.recommend import DeploymentRequest
from recostack.store.deployment_tables import PredictionLogRow

from .conftest import LiveServer

THREADS = 8


def _deploy(live_server: LiveServer, project: str, name: str) -> None:
    with live_server.client() as client:
        client.create_project(project)
        deployment = client.create_deployment(project, name, model_id=live_server.model_id)
        assert deployment.wait_for_deployment(timeout=30).status == "ACTIVE"


def test_switching_models_drops_no_request(live_server: LiveServer) -> None:
    _deploy(live_server, "promo", "promo-web")
    stop = threading.Event()
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def hammer() -> None:
        with httpx.Client(base_url=live_server.url, headers={"x-api-key": RECOMMEND_KEY}) as http:
            while not stop.is_set():
                answer = http.post("/api/deployments/promo-web/recommend", json={"itemId": "item1"})
                key = (
                    answer.json()["modelId"]
                    if answer.status_code == 200
                    else str(answer.status_code)
                )
                with lock:
                    outcomes[key] += 1

    with ThreadPoolExecutor(THREADS) as pool, live_server.client() as client:
        futures = [pool.submit(hammer) for _ in range(THREADS)]
        deployment = client.describe_deployment("promo-web")
        for _ in range(3):
            deployment.set_model_version(live_server.second_model_id)
            assert deployment.wait_for_pending_deployment_update(30).model_version == (
                live_server.second_model_id
            )
            deployment.rollback()
            assert deployment.wait_for_pending_deployment_update(30).model_version == (
                live_server.model_id
            )
        stop.set()
        for future in futures:
            future.result()
    failed = {
        k: v
        for k, v in outcomes.items()
        if k not in (live_server.model_id, live_server.second_model_id)
    }
    assert failed == {}
    assert outcomes[live_server.model_id] > 0 and outcomes[live_server.second_model_id] > 0


def _stored_ids(live_server: LiveServer, deployment_id: str) -> list[str]:
    with live_server.app.state.db.engine.connect() as connection:
        return list(
            connection.scalars(
                select(PredictionLogRow.request_id).where(
                    PredictionLogRow.deployment_id == deployment_id
                )
            )
        )


def test_a_burst_of_10k_requests_loses_no_log_record(live_server: LiveServer) -> None:
    """10k answers over HTTP on SQLite; on PostgreSQL the same 10k records go straight
    into the server's logger from 8 threads (the HTTP path is the same code; the client
    threads sharing the server's process make 10k HTTP requests take ~30 s)."""
    name = f"burst-{live_server.backend}"
    _deploy(live_server, name, name)
    per_thread = 10_000 // THREADS
    serving = live_server.app.state.serving

    def burst_http(n: int) -> list[str]:
        ids = []
        with httpx.Client(base_url=live_server.url, headers={"x-api-key": RECOMMEND_KEY}) as http:
            for i in range(per_thread):
                answer = http.post(
                    f"/api/deployments/{name}/recommend",
                    json={"itemId": f"item{(n + i) % 12}", "userId": f"u{i}"},
                )
                assert answer.status_code == 200
                ids.append(answer.json()["requestId"])
        return ids

    def burst_logger(n: int) -> list[str]:
        request = DeploymentRequest(item_id=f"item{n}", user_id=f"u{n}")
        return [
            asyncio.run(serving.deployments.recommend(name, request))["requestId"]
            for _ in range(per_thread)
        ]

    burst = burst_http if live_server.backend == "sqlite" else burst_logger
    with ThreadPoolExecutor(THREADS) as pool:
        sent = [i for ids in pool.map(burst, range(THREADS)) for i in ids]
    assert len(sent) == 10_000
    assert serving.prediction_logger.flush(30)
    assert sorted(_stored_ids(live_server, name)) == sorted(sent)
