"""Several replicas agree (issue 19, point 1).

Three ``recostack serve`` processes and two ``recostack worker`` processes
share one PostgreSQL schema and one data directory, behind the round-robin
proxy of ``_proxy.py``. A change made through one replica (the default
model, a scenario, a deployment's promotion and rollback, an online
learning configuration, a key rotation) must be served by every replica:
each is asked directly, in a loop, from the moment the change is answered,
and the worst delay is printed (``-s``) and kept in
``docs/reliability.md``; the test fails past 5 s, not at the 1 s target
(no timing assertions in the suite: ``bench/replicas.py`` reports against
it). A promotion and a rollback under load through the proxy fail no
request; online learning's totals are exact after responses spread over the
replicas (2,000 here, the issue's 30,000 in ``bench/replicas.py``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from conftest import ADMIN_KEY, RECOMMEND_KEY, write_catalog, write_usage
from recostack.store.engine import Database
from reliability._cluster import Cluster, within
from reliability._online_load import (
    add_online_deployment,
    configuration,
    run_online_load,
    set_up_online,
)

pytestmark = pytest.mark.postgres

#: a replica that has not caught up after this long fails the test (the target is 1 s)
AGREE_WITHIN = 5.0
RESPONSES = 2_000
#: the online deployment whose configuration is changed; the load goes to another one
ONLINE = "nbo"
LOADED = "nbo-load"


@dataclass
class Replicas:
    cluster: Cluster
    db: Database
    url: str
    models: tuple[str, str]
    probe: str
    online_configs: dict[str, str]
    delays: dict[str, float] = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        return self.db.engine

    @property
    def replica_urls(self) -> list[str]:
        return [api.url for api in self.cluster.apis if api.url]


def _schema_url(base: str, schema: str) -> str:
    return (
        make_url(base)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


def _train(http: httpx.Client, **extra: Any) -> str:
    body = {
        "description": "replicas",
        "blobContainerName": "input",
        "usageRelativePath": "usage.csv",
        "catalogFileRelativePath": "catalog.csv",
        "enableUserToItemRecommendations": True,
        **extra,
    }
    created = http.post("/api/models", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _similar(http: httpx.Client, model: str, item: str) -> list[str]:
    got = http.get(f"/api/models/{model}/recommend", params={"itemId": item})
    assert got.status_code == 200, got.text
    return [r["recommendedItemId"] for r in got.json()]


@pytest.fixture(scope="module")
def replicas(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    root = tmp_path_factory.mktemp("replicas")
    schema = f"rs_replicas_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _schema_url(postgres_url, schema)
    db = Database.open(url)
    cluster = Cluster(root, url)
    write_usage(cluster.data_dir / "files" / "input" / "usage.csv", users=60, per_user=6)
    write_catalog(cluster.data_dir / "files" / "input" / "catalog.csv")
    try:
        cluster.start(apis=3, workers=2)
        with cluster.http() as http:
            models = (
                _train(http, supportThreshold=3),
                _train(http, supportThreshold=4, similarityFunction="Lift"),
            )
            for model in models:
                within(
                    90,
                    lambda m=model: (
                        http.get(f"/api/models/{m}").json()["modelStatus"]  # type: ignore[misc]
                        in ("Completed", "Failed")
                    ),
                    "training",
                    pause=0.1,
                )
                assert http.get(f"/api/models/{model}").json()["modelStatus"] == "Completed"
            probe = next(
                f"item{i}"
                for i in range(12)
                if _similar(http, models[0], f"item{i}") != _similar(http, models[1], f"item{i}")
            )
            http.post("/api/projects", json={"projectId": "p"}).raise_for_status()
            http.post(
                "/api/projects/p/deployments",
                json={"deploymentId": "d", "version": "1", "modelId": models[0]},
            ).raise_for_status()
            set_up_online(http)
            configs = {
                name: add_online_deployment(http, models[0], name) for name in (ONLINE, LOADED)
            }
            for name in ("d", ONLINE, LOADED):
                within(
                    30,
                    lambda n=name: http.get(f"/api/deployments/{n}").json()["status"] == "ACTIVE",  # type: ignore[misc]
                    f"deployment {name}",
                )
        yield Replicas(cluster, db, cluster.url, models, probe, configs)
    finally:
        codes = cluster.stop()
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text("SET lock_timeout = '20s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    assert all(code == 0 for code in codes.values()), codes


def _agree(
    replicas: Replicas, what: str, check: Callable[[httpx.Client], bool], key: str = ADMIN_KEY
) -> float:
    """Seconds until every replica passes ``check`` (each asked directly, in its own thread,
    from now on); the worst is kept under ``what``."""
    started = time.monotonic()

    def watch(url: str) -> float:
        with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=10) as http:
            within(AGREE_WITHIN, lambda: check(http), f"{what} at {url}", pause=0.005)
        return time.monotonic() - started

    with ThreadPoolExecutor(len(replicas.replica_urls)) as pool:
        worst = max(pool.map(watch, replicas.replica_urls))
    replicas.delays[what] = worst
    return worst


def _answer_of(http: httpx.Client, path: str, **params: Any) -> Any:
    got = http.get(path, params=params)
    return got.json() if got.status_code == 200 else None


def test_a_change_through_one_replica_is_served_by_all(replicas: Replicas) -> None:
    first, second = replicas.models
    probe = replicas.probe
    with httpx.Client(base_url=replicas.replica_urls[0], headers={"x-api-key": ADMIN_KEY}) as one:
        expected = {m: _similar(one, m, probe) for m in (first, second)}

        def default_serves(model: str) -> Callable[[httpx.Client], bool]:
            def check(http: httpx.Client) -> bool:
                got = _answer_of(http, "/api/models/default/recommend", itemId=probe)
                return got is not None and [r["recommendedItemId"] for r in got] == expected[model]

            return check

        # the default model
        for n, model in enumerate((first, second)):
            one.put("/api/models/default", params={"modelId": model}).raise_for_status()
            _agree(replicas, f"default model ({n + 1})", default_serves(model))

        # a scenario, then a change of its rules
        def scenario_filters(filters: list[str]) -> Callable[[httpx.Client], bool]:
            def check(http: httpx.Client) -> bool:
                got = _answer_of(
                    http, f"/api/recommendation/items/{probe}/items/", include="scenario"
                )
                return got is not None and got.get("scenario", {}).get("filters") == filters

            return check

        for filters in (["colour:eq:red"], ["colour:eq:blue"]):
            body = {"scenario_type": "case", "case": {"filters": filters}}
            one.put("/api/scenarios/item_to_items/reliable", json=body).raise_for_status()
            one.put(
                "/api/scenarios-default/item_to_items", json={"name": "reliable"}
            ).raise_for_status()
            _agree(replicas, f"scenario {filters[0]}", scenario_filters(filters))

        # a deployment's promotion and rollback
        def deployment_serves(model: str) -> Callable[[httpx.Client], bool]:
            def check(http: httpx.Client) -> bool:
                got = http.post("/api/deployments/d/recommend", json={"itemId": probe})
                return got.status_code == 200 and got.json()["modelId"] == model

            return check

        one.post(
            "/api/deployments/d/set-model-version", json={"modelVersion": second}
        ).raise_for_status()
        _agree(replicas, "deployment promotion", deployment_serves(second))
        one.post("/api/deployments/d/rollback").raise_for_status()
        _agree(replicas, "deployment rollback", deployment_serves(first))

        # an online learning configuration replaced with another epsilon
        def online_epsilon(epsilon: float) -> Callable[[httpx.Client], bool]:
            def check(http: httpx.Client) -> bool:
                got = http.post(
                    f"/api/deployments/{ONLINE}/recommend",
                    json={"userId": "probe", "context": {"channel": "web"}},
                )
                return got.status_code == 200 and got.json()["onlineLearning"]["epsilon"] == epsilon

            return check

        for epsilon in (0.25, 0.0):
            changed = one.post(
                "/api/online-learning", json=configuration(ONLINE, epsilon=epsilon, replace=True)
            )
            assert changed.status_code in (200, 201), changed.text
            _agree(
                replicas,
                f"online learning configuration (epsilon {epsilon})",
                online_epsilon(epsilon),
            )

    # a key rotation (``recostack keys rotate``, on the store; timed from when the command
    # ends): the new key works everywhere, then, rotated again, nowhere
    new_key = replicas.cluster.cli("keys", "rotate", "--role", "recommend", "--slot", "secondary")
    new_key = new_key.strip()

    def recommend_status(http: httpx.Client, key: str) -> int:
        return http.get(
            "/api/models/default/recommend", params={"itemId": probe}, headers={"x-api-key": key}
        ).status_code

    _agree(replicas, "key rotation (new key)", lambda h: recommend_status(h, new_key) == 200)
    newer = replicas.cluster.cli("keys", "rotate", "--role", "recommend", "--slot", "secondary")
    newer = newer.strip()
    _agree(
        replicas, "key rotation (old key refused)", lambda h: recommend_status(h, new_key) == 401
    )
    _agree(replicas, "key rotation (newer key)", lambda h: recommend_status(h, newer) == 200)

    worst = max(replicas.delays.values())
    print("\npropagation to every replica (s):")
    for what, seconds in replicas.delays.items():
        print(f"  {what:<40} {seconds:.3f}")
    print(f"  worst: {worst:.3f} s")


def test_a_promotion_under_load_fails_no_request(replicas: Replicas) -> None:
    first, second = replicas.models
    outcomes: Counter[int] = Counter()
    served: Counter[str] = Counter()
    stop = threading.Event()
    lock = threading.Lock()

    def load(n: int) -> None:
        with httpx.Client(
            base_url=replicas.url, headers={"x-api-key": RECOMMEND_KEY}, timeout=30
        ) as http:
            while not stop.is_set():
                got = http.post(
                    "/api/deployments/d/recommend", json={"userId": f"user{n}", "itemId": "item1"}
                )
                with lock:
                    outcomes[got.status_code] += 1
                    if got.status_code == 200:
                        served[got.json()["modelId"]] += 1

    threads = [threading.Thread(target=load, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    try:
        with httpx.Client(
            base_url=replicas.url, headers={"x-api-key": ADMIN_KEY}, timeout=30
        ) as http:
            time.sleep(0.5)
            for _ in range(3):
                for change in (
                    lambda: http.post(
                        "/api/deployments/d/set-model-version", json={"modelVersion": second}
                    ),
                    lambda: http.post("/api/deployments/d/rollback"),
                ):
                    answer = change()
                    assert answer.status_code == 200, answer.text
                    time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    total = sum(outcomes.values())
    print(
        f"\n{total} requests during 6 promotions/rollbacks: {dict(outcomes)}; served {dict(served)}"
    )
    assert set(outcomes) == {200}, dict(outcomes)
    assert served[first] > 0 and served[second] > 0


def test_online_learning_totals_are_exact_over_the_replicas(replicas: Replicas) -> None:
    totals = run_online_load(
        replicas.url, replicas.engine, RESPONSES, LOADED, replicas.online_configs[LOADED]
    )
    print(
        f"\n{totals.responses} responses to {totals.answers} answers over 3 replicas in "
        f"{totals.seconds:.1f} s"
    )
    assert totals.response_logs == totals.responses
    assert totals.stored == totals.expected
