"""Three replicas and two workers on one schema, and what is measured on them.

Used by ``test_replicas.py`` and by ``bench/replicas.py``: :func:`replica_set`
starts the processes (``_cluster.py``) on a new schema of the shared
PostgreSQL server, trains two models that answer differently, and creates
the deployment ``d`` and two online deployments; :func:`propagation` makes
each kind of change through one replica and times until every replica
serves it; :func:`promotion_under_load` promotes and rolls back under load
through the proxy.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from conftest import ADMIN_KEY, RECOMMEND_KEY, write_catalog, write_usage
from recostack.store.engine import Database
from reliability._cluster import Cluster, within
from reliability._online_load import add_online_deployment, configuration, set_up_online

#: a replica that has not caught up after this long fails (the target is 1 s)
AGREE_WITHIN = 5.0
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


@contextmanager
def replica_set(
    postgres_url: str, root: Path, *, apis: int = 3, workers: int = 2
) -> Iterator[Replicas]:
    """``apis`` replicas and ``workers`` workers on a new schema of ``postgres_url`` behind the
    proxy, with two trained models, the deployment ``d`` and two online deployments; all
    stopped and the schema dropped afterwards."""
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
        cluster.start(apis=apis, workers=workers)
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


def propagation(replicas: Replicas) -> dict[str, float]:
    """Each kind of change made through the first replica, and how long until every replica
    serves it (seconds, the worst of the replicas, by change)."""
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

    return dict(replicas.delays)


def promotion_under_load(
    replicas: Replicas, rounds: int = 3, threads: int = 6, pause: float = 1.0
) -> tuple[Counter[int], Counter[str]]:
    """Recommendations through the proxy from ``threads`` threads while the deployment ``d``
    is promoted and rolled back ``rounds`` times; the statuses answered and the models
    that answered."""
    second = replicas.models[1]
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

    started = [threading.Thread(target=load, args=(n,)) for n in range(threads)]
    for thread in started:
        thread.start()
    try:
        with httpx.Client(
            base_url=replicas.url, headers={"x-api-key": ADMIN_KEY}, timeout=30
        ) as http:
            time.sleep(0.5)
            for _ in range(rounds):
                for change in (
                    lambda: http.post(
                        "/api/deployments/d/set-model-version", json={"modelVersion": second}
                    ),
                    lambda: http.post("/api/deployments/d/rollback"),
                ):
                    answer = change()
                    assert answer.status_code == 200, answer.text
                    time.sleep(pause)
    finally:
        stop.set()
        for thread in started:
            thread.join(30)
    return outcomes, served
