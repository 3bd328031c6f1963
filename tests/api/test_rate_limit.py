"""The per-key request-rate limit (issue 19, point 5): off by default; a token bucket per
key, in the process or in Redis; over it, a 429 with Retry-After and a JSON body."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from conftest import ADMIN_KEY, RECOMMEND_KEY, make_settings
from operations.prometheus_text import request_count, samples
from recostack.api.app import create_app
from recostack.api.rate_limit import LocalBuckets, RedisBuckets
from recostack.api.request_limits import bucket_namespace
from recostack.settings import Settings
from recostack.store.engine import Database

Headers = dict[str, str]
#: one request per 100 s after a burst of 3: no refill within a test, however slow the machine
RATE, BURST = 0.01, 3
REDIS = "redis://127.0.0.1:6379/0"


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


@pytest.fixture
def limited_settings(data_dir: Path, database_url: str, db: Database) -> Settings:
    return make_settings(data_dir, database_url, rate_limit_per_second=RATE, rate_limit_burst=BURST)


def test_the_bucket_refills_at_its_rate() -> None:
    now = [100.0]
    buckets = LocalBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take_now("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take_now("k") == pytest.approx(0.5)  # one token takes 1/2 s
    assert buckets.take_now("other") == 0.0  # each key its own bucket
    now[0] += 0.25
    assert buckets.take_now("k") == pytest.approx(0.25)
    now[0] += 0.25
    assert buckets.take_now("k") == 0.0
    now[0] += 60
    assert [buckets.take_now("k") for _ in range(4)][-1] > 0  # never more than the burst


def test_there_is_no_limit_by_default(client: TestClient, admin_headers: Headers) -> None:
    assert client.app.state.rate_limiter is None  # type: ignore[attr-defined]
    answers = {client.get("/api/models", headers=admin_headers).status_code for _ in range(50)}
    assert answers == {200}


def test_a_key_over_its_rate_gets_429_with_retry_after(limited_settings: Settings) -> None:
    admin, recommend = {"x-api-key": ADMIN_KEY}, {"x-api-key": RECOMMEND_KEY}
    with _client(limited_settings) as client:
        assert [client.get("/api/models", headers=admin).status_code for _ in range(BURST)] == [
            200
        ] * BURST
        refused = client.get("/api/models", headers=admin)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "100"
        body = refused.json()
        assert body["error"] == "too_many_requests" and body["field"] == "x-api-key"
        assert "admin/primary is over its limit of 0.01 requests per second" in body["message"]
        assert ADMIN_KEY not in refused.text
        # another key has its own bucket; a wrong key is a 401, whatever its rate
        item = {"itemId": "item1"}
        answer = client.get("/api/models/default/recommend", params=item, headers=recommend)
        assert answer.status_code == 404  # no default model: the request went through
        wrong = {"x-api-key": "not-a-key"}
        assert {client.get("/api/models", headers=wrong).status_code for _ in range(5)} == {401}
        # the dashboard's pages and the probes are not keyed
        assert client.get("/healthz").status_code == 200


@pytest.mark.redis
def test_processes_share_the_buckets_in_redis(
    data_dir: Path, database_url: str, db: Database
) -> None:
    settings = make_settings(
        data_dir,
        database_url,
        rate_limit_per_second=RATE,
        rate_limit_burst=BURST,
        redis_url=REDIS,
    )
    admin = {"x-api-key": ADMIN_KEY}
    with _client(settings) as one, _client(settings) as two:
        limiter = one.app.state.rate_limiter  # type: ignore[attr-defined]
        assert isinstance(limiter, RedisBuckets)
        statuses = [
            (one if n % 2 else two).get("/api/models", headers=admin).status_code
            for n in range(BURST + 2)
        ]
        assert statuses == [200] * BURST + [429, 429]  # the burst is shared, not per process
    stored = redis.Redis.from_url(REDIS)
    try:
        name = f"{bucket_namespace(settings)}:rate:admin/primary"
        assert stored.hget(name, "tokens") is not None  # named by the key's slot, not the key
        stored.delete(name)
    finally:
        stored.close()


def test_without_redis_each_process_limits_alone(
    data_dir: Path, database_url: str, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        data_dir,
        database_url,
        rate_limit_per_second=RATE,
        rate_limit_burst=BURST,
        redis_url=f"redis://127.0.0.1:1/{uuid.uuid4().int % 16}",  # nothing listens there
    )
    admin = {"x-api-key": ADMIN_KEY}
    with caplog.at_level(logging.WARNING), _client(settings) as client:
        statuses = [client.get("/api/models", headers=admin).status_code for _ in range(BURST + 1)]
    assert statuses == [200] * BURST + [429]
    assert "Redis is unavailable" in caplog.text


def test_a_429_counts_under_its_route_and_as_an_error_of_the_deployment(
    limited_settings: Settings,
    client: TestClient,
    admin_headers: Headers,
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    deploy(trained_model["id"])  # "web", ACTIVE (created through the app without a limit)
    path, route = "/api/deployments/web/recommend", "/api/deployments/{deployment_id}/recommend"
    recommend = {"x-api-key": RECOMMEND_KEY}
    with _client(limited_settings) as limited:
        for _ in range(1000):  # until the limited app, too, serves it (the probe takes no key)
            if limited.get("/readyz").status_code == 200:
                break
            time.sleep(0.02)
        before = limited.get("/metrics").text
        statuses = [
            limited.post(path, json={"userId": "user1"}, headers=recommend).status_code
            for _ in range(BURST + 2)
        ]
        assert statuses == [200] * BURST + [429, 429]
        after = limited.get("/metrics").text
        limited.app.state.serving.prediction_logger.flush()  # type: ignore[attr-defined]
        limited.app.state.serving.statistics.flush()  # type: ignore[attr-defined]

    def sent(route: str, status: int) -> float:
        return request_count(after, route, "POST", status) - request_count(
            before, route, "POST", status
        )

    assert (sent(route, 200), sent(route, 429), sent("unmatched", 429)) == (BURST, 2, 0)
    label = '{deployment="web",status_class="4xx",version="1"}'
    errors_before = samples(before, "recostack_deployment_errors_total").get(label, 0.0)
    assert samples(after, "recostack_deployment_errors_total")[label] - errors_before == 2
    stats = client.get("/api/deployments/web/statistics", headers=admin_headers)
    assert stats.status_code == 200, stats.text
    summary = stats.json()["summary"]
    assert (summary["requests"], summary["errors4xx"]) == (BURST + 2, 2)
