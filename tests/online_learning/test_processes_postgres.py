"""Four API processes on the real PostgreSQL learn from 2,500 (or 10,000) responses each, exactly.

The processes are real uvicorn servers sharing one schema. Answers are
asked of every process; the responses to an answer are posted to another
process than the one that gave it (so most are checked against the store),
and one in twenty is posted twice (it must count once). The servers are
stopped with SIGTERM (each writes what it still holds); then every arm's
counts, alpha and beta must equal what the responses imply, exactly (the
rewards are powers of two: the sums are exact in floating point).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from conftest import ADMIN_KEY, RECOMMEND_KEY, make_settings
from recostack.api.app import create_app
from recostack.serving.keys import Role
from recostack.store.engine import Database
from recostack.store.key_repository import ensure_keys
from recostack.store.migrate import upgrade
from recostack.store.server_secret import key_secret

T = TypeVar("T")
PROCESSES = 4
#: the issue's run is 10,000 per process (RECOSTACK_TEST_RESPONSES_PER_PROCESS=10000: 195 s on
#: this 2-core machine, 4 servers, PostgreSQL and the clients sharing the cores, every total
#: exact); the suite posts 2,500 per process to stay within its budget
RESPONSES_PER_PROCESS = int(os.environ.get("RECOSTACK_TEST_RESPONSES_PER_PROCESS", "2500"))
OFFERS_SHOWN = 4
#: requests in flight to each process
IN_FLIGHT = 8
#: the client drops a connection idle for 2 s, before uvicorn closes it at 5 s: on a loaded
#: machine a POST sent on a connection the server was closing failed with a ReadError
#: (CI, once), and a response post cannot be retried blindly (the response log counts each)
_KEEP_ALIVE = httpx.Limits(keepalive_expiry=2.0)
#: answers asked of each process: its responses go to the offers those answers showed
ANSWERS_PER_PROCESS = -(-RESPONSES_PER_PROCESS // OFFERS_SHOWN)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "recostack.api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )


async def _in_flight(calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
    """Make the calls, ``IN_FLIGHT`` at a time (a process reads the answers of the responses
    waiting at once in one query: one call at a time would measure its round trip)."""
    results: list[T | None] = [None] * len(calls)
    cursor = iter(range(len(calls)))

    async def worker() -> None:
        for index in cursor:
            results[index] = await calls[index]()

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return results  # type: ignore[return-value]


async def _each_process(work: Callable[[int], Awaitable[T]]) -> list[T]:
    return list(await asyncio.gather(*(work(p) for p in range(PROCESSES))))


def _wait_ready(url: str, deadline: float) -> None:
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{url} did not start"
        time.sleep(0.1)


@pytest.mark.postgres
@pytest.mark.timeout(max(300, RESPONSES_PER_PROCESS // 20))  # 10,000: 500 s
def test_four_processes_lose_and_double_count_nothing(
    postgres_schema_url: str,
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "data", postgres_schema_url)
    db = Database.open(postgres_schema_url)
    upgrade(db.engine)
    with db.transaction() as session:
        ensure_keys(
            session, {Role.ADMIN: ADMIN_KEY, Role.RECOMMEND: RECOMMEND_KEY}, key_secret(settings)
        )
    admin = {"x-api-key": ADMIN_KEY}
    from conftest import write_catalog, write_usage
    from recostack.jobs.worker import Worker

    folder = settings.files_dir / "input"
    write_usage(folder / "usage.csv")
    write_catalog(folder / "catalog.csv")
    offers = "offer,name\n" + "".join(f"o{i},Offer {i}\n" for i in range(6))
    with TestClient(create_app(settings)) as client:
        model = client.post(
            "/api/models",
            json={"blobContainerName": "input", "usageRelativePath": "usage.csv"},
            headers=admin,
        ).json()["id"]
        worker = Worker(settings, db, name="test")
        while worker.run_once():
            pass
        assert client.put("/api/offers/shop?key=offer", content=offers, headers=admin).is_success
        client.post(
            "/api/online-learning/feature-store",
            json={
                "offer_collection": "shop",
                "offer_name_column": "offer",
                "contextual_variables": {"channel": ["web", "app"]},
                "setup_feature_store_collection": "fs",
            },
            headers=admin,
        ).raise_for_status()
        config = client.post(
            "/api/online-learning",
            json={
                "name": "exact",
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
            },
            headers=admin,
        ).json()["id"]
        client.post("/api/projects", json={"projectId": "p"}, headers=admin).raise_for_status()
        client.post(
            "/api/projects/p/deployments",
            json={
                "deploymentId": "nbo",
                "version": "1",
                "modelId": model,
                "multi_armed_bandit": {"epsilon": 0.1, "duration": 0, "pulse_responder_id": config},
            },
            headers=admin,
        ).raise_for_status()
        while client.get("/api/deployments/nbo", headers=admin).json()["status"] != "ACTIVE":
            time.sleep(0.05)

    env = {
        **os.environ,
        "RECOSTACK_DATA_DIR": str(settings.data_dir),
        "RECOSTACK_DATABASE_URL": postgres_schema_url,
        "RECOSTACK_WORKERS_IN_PROCESS": "0",
        "RECOSTACK_ADMIN_KEY": ADMIN_KEY,
        "RECOSTACK_RECOMMEND_KEY": RECOMMEND_KEY,
        "RECOSTACK_LOG_LEVEL": "warning",
    }
    ports = [_port() for _ in range(PROCESSES)]
    servers = [_serve(env, port) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 120  # four servers starting at once on two cores
        for url in urls:
            _wait_ready(url, deadline)
        headers = {"x-api-key": RECOMMEND_KEY}

        def ask(p: int, n: int) -> dict[str, object]:
            return {
                "userId": f"u{p}-{n % 50}",
                "recommendationCount": OFFERS_SHOWN,
                "context": {"channel": "web" if n % 3 else "app"},
            }

        async def asked(p: int) -> list[tuple[str, list[str]]]:
            async def one(http: httpx.AsyncClient, n: int) -> tuple[str, list[str]]:
                answer = await http.post("/api/deployments/nbo/recommend", json=ask(p, n))
                assert answer.status_code == 200, answer.text
                got = answer.json()
                return got["requestId"], [i["itemId"] for i in got["items"]]

            async with httpx.AsyncClient(
                base_url=urls[p], headers=headers, timeout=60, limits=_KEEP_ALIVE
            ) as http:
                return await _in_flight(
                    [lambda n=n: one(http, n) for n in range(ANSWERS_PER_PROCESS)]
                )

        answered = asyncio.run(_each_process(asked))
        # every answer's offers reach the store before other processes get responses to them
        check = create_engine(postgres_schema_url)
        expected_shown = PROCESSES * ANSWERS_PER_PROCESS * OFFERS_SHOWN
        deadline = time.monotonic() + 30
        while True:
            with check.connect() as connection:
                stored = connection.scalar(text("SELECT count(*) FROM online_interactions"))
            if stored == expected_shown:
                break
            assert time.monotonic() < deadline, f"{stored} of {expected_shown} shown offers stored"
            time.sleep(0.1)

        def plan_of(p: int) -> list[tuple[str, str, bool]]:
            plan: list[tuple[str, str, bool]] = []
            for n, (request_id, offers_shown) in enumerate(answered[p]):
                for m, offer in enumerate(offers_shown):
                    plan.append((request_id, offer, (n + m) % 3 == 0))
            plan = plan[: RESPONSES_PER_PROCESS - RESPONSES_PER_PROCESS // 20]
            plan += plan[::19][: RESPONSES_PER_PROCESS - len(plan)]  # posted twice
            assert len(plan) == RESPONSES_PER_PROCESS
            return plan

        async def respond(p: int) -> list[tuple[str, str, bool]]:
            # the answers of process p, responded to through process p + 1
            plan = plan_of(p)

            async def one(http: httpx.AsyncClient, response: tuple[str, str, bool]) -> None:
                request_id, offer, take_up = response
                answer = await http.post(
                    "/api/deployments/nbo/responses",
                    json={"requestId": request_id, "itemId": offer, "takeUp": take_up},
                )
                assert answer.status_code == 201, answer.text

            url = urls[(p + 1) % PROCESSES]
            async with httpx.AsyncClient(
                base_url=url, headers=headers, timeout=60, limits=_KEEP_ALIVE
            ) as http:
                await _in_flight([lambda r=r: one(http, r) for r in plan])
            return plan

        posted = [r for plan in asyncio.run(_each_process(respond)) for r in plan]
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)
        for server in servers:
            server.wait(60)
    assert all(server.returncode == 0 for server in servers)

    first = {(q, o): t for q, o, t in reversed(posted)}  # the first response of each pair
    shown = Counter(o for answers in answered for _, offers_shown in answers for o in offers_shown)
    taken = Counter(o for (_, o), t in first.items() if t)
    declined = Counter(o for (_, o), t in first.items() if not t)
    with check.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM response_logs")) == len(posted)
        rows = connection.execute(
            text(
                "SELECT offer, sum(shown), sum(taken_up), sum(declined), sum(alpha - alpha_zero), "
                "sum(beta - beta_zero) FROM online_arms GROUP BY offer"
            )
        ).all()
    check.dispose()
    db.dispose()
    totals = {r[0]: r[1:] for r in rows}
    assert sum(t[0] for t in totals.values()) == expected_shown
    for offer, (n_shown, n_taken, n_declined, alpha, beta) in totals.items():
        assert (n_shown, n_taken, n_declined) == (shown[offer], taken[offer], declined[offer])
        assert alpha == 2.0 * taken[offer]  # success_reward 2 per take-up
        assert beta == 0.5 * (shown[offer] - taken[offer])  # fail_reward 0.5 otherwise
