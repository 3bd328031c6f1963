"""The deployment recommend endpoint vs the bare model endpoint, and logging with no loss.

A server runs in a child process (uvicorn, one process, SQLite under a
temporary directory); load comes from client processes with keep-alive
connections. Measured in the same run:

- throughput of ``GET /api/models/{id}/recommend`` (the bare model path);
- throughput of ``POST /api/deployments/{id}/recommend`` with a customer
  lookup, a whitelist and logging on (target: >= 0.7x the bare path);
- ``--log-requests`` (default 100k) answers through the deployment, then
  the stored prediction log records are counted (target: zero lost).

    .venv/bin/python bench/deployment.py [--json] [--seconds 5] [--log-requests 100000]
"""

from __future__ import annotations

import multiprocessing
import random
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import emit, machine_info, parser, progress, table

ADMIN = "bench-admin-key-0123456789abcdef0123456789"
RECOMMEND = "bench-recommend-key-0123456789abcdef01234"
USERS, ITEMS, CLIENTS = 2000, 500, 8


def _serve(data_dir: str, port: int) -> None:
    import uvicorn

    from recostack.api.app import create_app
    from recostack.settings import Settings
    from recostack.store.engine import Database
    from recostack.store.key_repository import ensure_keys
    from recostack.store.migrate import upgrade
    from recostack.store.tables import Role

    settings = Settings(
        data_dir=Path(data_dir),
        admin_key=ADMIN,
        recommend_key=RECOMMEND,
        workers_in_process=1,
        train_in_subprocess=False,
        log_level="warning",
    )
    db = Database.open(settings.effective_database_url)
    upgrade(db.engine)
    with db.transaction() as session:
        ensure_keys(session, {Role.ADMIN: ADMIN, Role.RECOMMEND: RECOMMEND})
    db.dispose()
    uvicorn.run(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )


def _load(
    url: str, path: str, method: str, bodies: list[dict[str, Any]], seconds: float, count: int
) -> int:
    import httpx

    done = 0
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=url, headers={"x-api-key": RECOMMEND}, timeout=30) as http:
        while (count and done < count) or (not count and time.monotonic() < deadline):
            body = bodies[done % len(bodies)]
            get = method == "GET"
            answer = http.get(path, params=body) if get else http.post(path, json=body)
            if answer.status_code != 200:
                raise RuntimeError(answer.text)
            done += 1
    return done


def _throughput(
    url: str, path: str, method: str, bodies: list[dict[str, Any]], seconds: float, count: int = 0
) -> float:
    with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
        start = time.perf_counter()
        per_client = count // CLIENTS if count else 0
        total = sum(
            pool.starmap(_load, [(url, path, method, bodies, seconds, per_client)] * CLIENTS)
        )
        return total / (time.perf_counter() - start)


def main() -> None:
    p = parser("deployment recommend vs bare model recommend; logging loss")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--log-requests", type=int, default=100_000)
    args = p.parse_args()
    from recostack.client import Client

    root = Path(tempfile.mkdtemp(prefix="recostack-bench-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(root), port))
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        client = Client(url, ADMIN, poll_seconds=0.1)
        for _ in range(200):
            try:
                client.list_projects()
                break
            except Exception:
                time.sleep(0.1)
        rng = random.Random(7)
        usage = "\n".join(
            f"u{u},i{rng.randrange(ITEMS)},2024-03-01T10:00:00"
            for u in range(USERS)
            for _ in range(10)
        )
        client.upload_file("bench", "usage.csv", usage)
        model = client.create_model(blob_container_name="bench", usage_relative_path="usage.csv")
        client.wait_for_model(model["id"], timeout=300)
        progress(args, "model trained")
        customers = "customer,segment,white_list\n" + "\n".join(
            f"u{u},s{u % 3},{';'.join(f'i{rng.randrange(ITEMS)}' for _ in range(100))}"
            for u in range(USERS)
        )
        client.upload_customers("crm", customers, key="customer")
        client.create_project("bench")
        deployment = client.create_deployment(
            "bench",
            "bench-web",
            model_id=model["id"],
            parameter_access={"collection": "crm"},
            whitelist={"field": "white_list"},
        )
        deployment.wait_for_deployment(timeout=60)
        bare_bodies = [{"itemId": f"i{i}", "recommendationCount": 10} for i in range(ITEMS)]
        deployed_bodies = [
            {"itemId": f"i{i % ITEMS}", "userId": f"u{i % USERS}", "recommendationCount": 10}
            for i in range(USERS)
        ]
        bare = _throughput(
            url, f"/api/models/{model['id']}/recommend", "GET", bare_bodies, args.seconds
        )
        progress(args, f"bare {bare:.0f}/s")
        deployed = _throughput(
            url, "/api/deployments/bench-web/recommend", "POST", deployed_bodies, args.seconds
        )
        progress(args, f"deployment {deployed:.0f}/s")
        before = _count_logs(root)
        _throughput(
            url,
            "/api/deployments/bench-web/recommend",
            "POST",
            deployed_bodies,
            0,
            args.log_requests,
        )
        sent = (args.log_requests // CLIENTS) * CLIENTS
        deadline = time.monotonic() + 120
        stored = _count_logs(root) - before
        while stored < sent and time.monotonic() < deadline:
            time.sleep(0.2)
            stored = _count_logs(root) - before
    finally:
        server.terminate()
        server.join(30)
    ratio = deployed / bare
    figures = {
        "machine": machine_info(),
        "bare_requests_per_second": bare,
        "deployment_requests_per_second": deployed,
        "ratio": ratio,
        "ratio_target": 0.7,
        "logged_requests_sent": sent,
        "log_records_stored": stored,
        "log_records_lost": sent - stored,
    }
    rows = [
        ("bare model recommend (req/s)", f"{bare:.0f}"),
        ("deployment recommend: lookup + whitelist + logging (req/s)", f"{deployed:.0f}"),
        ("ratio (target >= 0.7)", f"{ratio:.2f}"),
        (f"log records stored of {sent}", f"{stored} (lost {sent - stored})"),
    ]
    emit(args, figures, [table("deployment serving", ("measure", "value"), rows)])


def _count_logs(root: Path) -> int:
    import sqlite3

    with sqlite3.connect(root / "recostack.db") as connection:
        return int(connection.execute("SELECT count(*) FROM prediction_logs").fetchone()[0])


if __name__ == "__main__":
    main()
