"""The database goes away and comes back (issue 19, point 2).

The test starts a PostgreSQL server of its own (``_postgres.py``), a
``recostack serve`` process and a ``recostack worker`` on it, and holds a
load of several kinds of request while it stops the server (fast shutdown:
connections cut) for 10 s and starts it again, Recostack untouched:

- served from memory, must keep answering 200: recommendations of the
  default model and through a deployment (whose prediction log is queued
  and written when the database is back);
- needing the database, must answer at once with 200 or a 503 with a JSON
  message, never a 500 or a hang: reading a model, listing models,
  submitting trainings (one every few tenths of a second), responses to
  the deployment's answers;
- a batch job running on the worker across the outage.

Afterwards, without restarting anything: every request kind answers again;
every training accepted (201) is Completed, once; the batch job is
complete with each input line once; the prediction log holds each answer
given, once; the response log each response accepted (201), once. The
503 latency while the database is down and the recovery time are printed
(``-s``) and kept in ``docs/reliability.md``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text

from conftest import ADMIN_KEY, RECOMMEND_KEY, write_catalog, write_usage
from reliability._cluster import Cluster, within
from reliability._postgres import OwnPostgres

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

OUTAGE_SECONDS = 10.0
#: no request may take longer, database or not (the 503 itself is measured, not asserted)
HANG_SECONDS = 10.0
BATCH_LINES = 20_000
TRAINING = {
    "blobContainerName": "input",
    "usageRelativePath": "usage.csv",
    "catalogFileRelativePath": "catalog.csv",
    "supportThreshold": 3,
}


@dataclass
class Outcome:
    status: int
    seconds: float
    at: float
    body: bytes


@dataclass
class Load:
    """Requests by kind: every outcome, the answers given and the responses accepted."""

    outcomes: dict[str, list[Outcome]] = field(default_factory=lambda: defaultdict(list))
    answers: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    trainings: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def record(self, kind: str, started: float, reply: httpx.Response) -> None:
        outcome = Outcome(reply.status_code, time.monotonic() - started, started, reply.content)
        with self.lock:
            self.outcomes[kind].append(outcome)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres().init()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def cluster(own_postgres: OwnPostgres, tmp_path: Path) -> Iterator[Cluster]:
    """A replica and a worker on the test's server (stopped before the server goes)."""
    cluster = Cluster(
        tmp_path / "cluster",
        own_postgres.url,
        settings={"RECOSTACK_BATCH_CHUNK_LINES": "500", "RECOSTACK_BATCH_PROCESSES": "1"},
    )
    try:
        yield cluster
    finally:
        cluster.stop()


def _loop(load: Load, kind: str, pause: float, call: Callable[[httpx.Client], None]) -> None:
    """``call`` until the load stops; a connection that fails is an outcome too (status 0)."""
    with httpx.Client(timeout=60) as http:
        while not load.stop.is_set():
            started = time.monotonic()
            try:
                call(http)
            except httpx.HTTPError as exc:
                with load.lock:
                    failed = Outcome(0, time.monotonic() - started, started, repr(exc).encode())
                    load.outcomes[f"{kind}: connection failed"].append(failed)
            time.sleep(pause)


def test_requests_fail_fast_and_nothing_is_lost_while_the_database_restarts(
    own_postgres: OwnPostgres, cluster: Cluster
) -> None:
    folder = cluster.data_dir / "files" / "input"
    write_usage(folder / "usage.csv", users=60)
    write_catalog(folder / "catalog.csv")
    lines = [{"userId": f"user{i % 60}", "line": i} for i in range(BATCH_LINES)]
    (folder / "lines.jsonl").write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    load = Load()
    threads: list[threading.Thread] = []
    try:
        cluster.start(apis=1, workers=1, proxy=False)
        api = cluster.url
        admin = {"x-api-key": ADMIN_KEY}
        recommend = {"x-api-key": RECOMMEND_KEY}
        with cluster.http() as http:
            model = http.post("/api/models", json=TRAINING).json()["id"]
            within(
                60,
                lambda: http.get(f"/api/models/{model}").json()["modelStatus"] == "Completed",
                "training",
                pause=0.1,
            )
            http.put("/api/models/default", params={"modelId": model}).raise_for_status()
            http.post("/api/projects", json={"projectId": "p"}).raise_for_status()
            http.post(
                "/api/projects/p/deployments",
                json={"deploymentId": "d", "version": "1", "modelId": model},
            ).raise_for_status()
            within(
                30,
                lambda: http.get("/api/deployments/d").json()["status"] == "ACTIVE",
                f"deployment {http.get('/api/deployments/d').json()}",
            )

        # --- the load --------------------------------------------------------------------
        def default_recommend(client: httpx.Client) -> None:
            started = time.monotonic()
            reply = client.get(
                f"{api}/api/models/default/recommend", params={"itemId": "item1"}, headers=recommend
            )
            load.record("default model recommend (memory)", started, reply)

        def deployment_recommend(client: httpx.Client) -> None:
            started = time.monotonic()
            reply = client.post(
                f"{api}/api/deployments/d/recommend", json={"userId": "user3"}, headers=recommend
            )
            load.record("deployment recommend (memory)", started, reply)
            if reply.status_code == 200:
                with load.lock:
                    load.answers.append(reply.json()["requestId"])

        def respond(client: httpx.Client) -> None:
            with load.lock:
                answered = load.answers[-1] if load.answers else None
            if answered is None:
                return
            started = time.monotonic()
            reply = client.post(
                f"{api}/api/deployments/d/responses",
                json={"requestId": answered, "event": "click"},
                headers=recommend,
            )
            load.record("response (database)", started, reply)
            if reply.status_code == 201:
                with load.lock:
                    load.responses.append(answered)

        def read_model(client: httpx.Client) -> None:
            started = time.monotonic()
            reply = client.get(f"{api}/api/models/{model}", headers=admin)
            load.record("read a model (database)", started, reply)

        def list_models(client: httpx.Client) -> None:
            started = time.monotonic()
            reply = client.get(f"{api}/api/models", headers=admin)
            load.record("list models (database)", started, reply)

        def train(client: httpx.Client) -> None:
            started = time.monotonic()
            reply = client.post(f"{api}/api/models", json=TRAINING, headers=admin)
            load.record("submit a training (database)", started, reply)
            if reply.status_code == 201:
                with load.lock:
                    load.trainings.append(reply.json()["id"])

        for call, pause in (
            (default_recommend, 0.01),
            (deployment_recommend, 0.01),
            (respond, 0.05),
            (read_model, 0.05),
            (list_models, 0.1),
            (train, 0.5),
        ):
            thread = threading.Thread(target=_loop, args=(load, call.__name__, pause, call))
            thread.start()
            threads.append(thread)

        time.sleep(2)
        with cluster.http() as http:
            job = http.post(
                "/api/batch-inference-jobs",
                json={
                    "jobName": "outage",
                    "solutionVersionArn": model,
                    "jobInput": {"path": "input/lines.jsonl"},
                    "jobOutput": {"path": "output/lines.out"},
                },
            )
            assert job.status_code == 201, job.text
            job_id = job.json()["batchInferenceJobArn"]

            def batch_progress() -> dict[str, int]:
                described = http.get(f"/api/batch-inference-jobs/{job_id}").json()
                return dict(described["batchInferenceJob"]["progress"])

            # the database goes away in the middle of the job
            within(60, lambda: batch_progress()["chunksDone"] >= 1, "the batch job's first chunk")
            at_stop = batch_progress()

        # --- the outage ------------------------------------------------------------------
        stopped_at = time.monotonic()
        own_postgres.stop()
        time.sleep(OUTAGE_SECONDS)
        own_postgres.start()
        restarted_at = time.monotonic()

        def database_answers() -> bool:
            with load.lock:
                latest = [
                    o
                    for o in load.outcomes["read a model (database)"]
                    if o.at > time.monotonic() - 0.5
                ]
            return bool(latest) and all(o.status == 200 for o in latest)

        within(30, database_answers, "reads after the restart", pause=0.1)
        recovered_after = time.monotonic() - restarted_at
        time.sleep(2)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(60)

    # --- afterwards: nothing lost, nothing twice ----------------------------------------------
    try:
        with cluster.http() as http:
            for training in load.trainings:
                within(
                    120,
                    lambda t=training: (
                        http.get(f"/api/models/{t}").json()["modelStatus"]  # type: ignore[misc]
                        in ("Completed", "Failed")
                    ),
                    f"training {training}",
                    pause=0.1,
                )
            statuses = Counter(
                http.get(f"/api/models/{t}").json()["modelStatus"] for t in load.trainings
            )
            within(
                120,
                lambda: (
                    http.get(f"/api/batch-inference-jobs/{job_id}").json()["batchInferenceJob"][
                        "status"
                    ]
                    in ("ACTIVE", "CREATE FAILED")
                ),
                "batch job",
                pause=0.2,
            )
            batch = http.get(f"/api/batch-inference-jobs/{job_id}").json()["batchInferenceJob"]
    finally:
        codes = cluster.stop()  # the server writes what it still holds
    engine = create_engine(own_postgres.url)
    try:
        with engine.connect() as connection:
            logged = Counter(
                r[0]
                for r in connection.execute(
                    text("SELECT request_id FROM prediction_logs WHERE deployment_id = 'd'")
                )
            )
            responded = connection.scalar(
                text("SELECT count(*) FROM response_logs WHERE deployment_id = 'd'")
            )
            models = connection.scalar(text("SELECT count(*) FROM models"))
    finally:
        engine.dispose()

    # --- the figures ----------------------------------------------------------------------------
    down = (stopped_at, restarted_at)
    print(f"\ndatabase down {restarted_at - stopped_at:.1f} s; reads answered again", end=" ")
    print(f"{recovered_after:.2f} s after the restart")
    for kind, outcomes in sorted(load.outcomes.items()):
        during = [o for o in outcomes if down[0] <= o.at <= down[1]]
        failed = [o for o in during if o.status == 503]
        slowest = max((o.seconds for o in during), default=0.0)
        print(
            f"  {kind:<36} {len(outcomes):>6} requests, {len(during):>5} while down: "
            f"{dict(Counter(o.status for o in during))}, slowest {slowest:.3f} s"
            + (f", slowest 503 {max(o.seconds for o in failed):.3f} s" if failed else "")
        )
    print(f"  trainings accepted {len(load.trainings)}: {dict(statuses)}")
    print(f"  batch job {batch['status']} {batch['progress']}")
    print(f"  the batch job had {at_stop['linesDone']} lines done when the database stopped")
    print(f"  answers {len(load.answers)}, logged {len(logged)}")
    print(f"  responses accepted {len(load.responses)}, stored {responded}")

    # --- the claims -----------------------------------------------------------------------------
    assert all(code == 0 for code in codes.values()), codes
    for kind, outcomes in load.outcomes.items():
        statuses_seen = Counter(o.status for o in outcomes)
        if "(memory)" in kind:
            assert set(statuses_seen) == {200}, (kind, statuses_seen)
        else:
            assert set(statuses_seen) <= {200, 201, 503}, (kind, statuses_seen)
            assert statuses_seen[503] > 0, (kind, "never met the outage")
            for o in outcomes:
                if o.status == 503:
                    assert orjson.loads(o.body)["error"] == "unavailable", o.body
        assert max(o.seconds for o in outcomes) < HANG_SECONDS, kind
    assert load.trainings and statuses == {"Completed": len(load.trainings)}
    assert models == len(load.trainings) + 1
    assert batch["status"] == "ACTIVE", batch
    assert at_stop["linesDone"] < BATCH_LINES  # it ran across the outage
    output = cluster.data_dir / "files" / "output" / "lines.out"
    out = [orjson.loads(line) for line in output.read_bytes().splitlines()]
    assert sorted(o["input"]["line"] for o in out) == list(range(BATCH_LINES))
    assert set(logged) == set(load.answers) and max(logged.values()) == 1
    assert responded == len(load.responses)
