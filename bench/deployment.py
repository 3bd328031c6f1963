"""The deployment recommend endpoint vs the bare model endpoint, and logging with no loss.

A server runs in a child process (uvicorn, one process, SQLite under a
temporary directory); the load comes from wrk when installed (else an async
httpx loop, see ``_load.py``) on keep-alive connections. Measured in the
same run, on the same seed items:

- throughput of ``GET /api/models/{id}/recommend?itemId=`` (the bare model path);
- throughput of ``POST /api/deployments/{id}/recommend`` {userId, itemId} with a
  customer lookup (every user is a stored customer), a 100-item whitelist per
  customer and logging on (target: >= 0.7x the bare path);
- ``--log-requests`` (default 100k) answers through the deployment, sent by
  client processes that count every 200, then the stored prediction log
  records are counted (target: zero lost).

    .venv/bin/python bench/deployment.py [--json] [--seconds 8] [--log-requests 100000]
"""

from __future__ import annotations

import json
import multiprocessing
import random
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import emit, machine_info, parser, progress, table, verdict
from _load import Request, generator, run_load

ADMIN = "bench-admin-key-0123456789abcdef0123456789"
RECOMMEND = "bench-recommend-key-0123456789abcdef01234"
USERS, ITEMS, CLIENTS, CONNECTIONS = 2000, 500, 4, 32


def _serve(data_dir: str, port: int, database_url: str = "") -> None:
    """One API process with its in-process worker (SQLite under ``data_dir`` unless
    ``database_url``) and the bench's keys."""
    import uvicorn

    from recostack.api.app import create_app
    from recostack.serving.keys import Role
    from recostack.settings import Settings
    from recostack.store.engine import Database
    from recostack.store.key_repository import ensure_keys
    from recostack.store.migrate import upgrade
    from recostack.store.server_secret import key_secret

    settings = Settings(
        data_dir=Path(data_dir),
        database_url=database_url,
        admin_key=ADMIN,
        recommend_key=RECOMMEND,
        workers_in_process=1,
        train_in_subprocess=False,
        log_level="warning",
    )
    db = Database.open(settings.effective_database_url)
    upgrade(db.engine)
    with db.transaction() as session:
        ensure_keys(session, {Role.ADMIN: ADMIN, Role.RECOMMEND: RECOMMEND}, key_secret(settings))
    db.dispose()
    uvicorn.run(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )


def _send(url: str, bodies: list[dict[str, Any]], count: int) -> int:
    """POST ``count`` deployment requests one after another; the number answered 200."""
    import httpx

    done = 0
    with httpx.Client(base_url=url, headers={"x-api-key": RECOMMEND}, timeout=30) as http:
        for i in range(count):
            answer = http.post("/api/deployments/bench-web/recommend", json=bodies[i % len(bodies)])
            if answer.status_code != 200:
                raise RuntimeError(answer.text)
            done += 1
    return done


def _send_all(url: str, bodies: list[dict[str, Any]], count: int) -> int:
    per_client = count // CLIENTS
    with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
        return sum(pool.starmap(_send, [(url, bodies, per_client)] * CLIENTS))


def main() -> None:
    p = parser("deployment recommend vs bare model recommend; logging loss")
    p.add_argument("--seconds", type=float, default=8.0)
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
        client.wait_for_model(model.id, timeout=300)
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
            model_id=model.id,
            parameter_access={"collection": "crm"},
            whitelist={"field": "white_list"},
        )
        deployment.wait_for_deployment(timeout=60)
        rng = random.Random(11)
        seeds = [(f"u{rng.randrange(USERS)}", f"i{rng.randrange(ITEMS)}") for _ in range(2000)]
        bare_requests: list[Request] = [
            ("GET", f"/api/models/{model.id}/recommend?itemId={i}&recommendationCount=10", None)
            for _, i in seeds
        ]
        deployed_bodies = [{"userId": u, "itemId": i, "recommendationCount": 10} for u, i in seeds]
        deployed_requests: list[Request] = [
            ("POST", "/api/deployments/bench-web/recommend", json.dumps(b)) for b in deployed_bodies
        ]
        # warm both paths (the customer cache, the model's memory-mapped arrays)
        run_load(url, RECOMMEND, deployed_requests, 2, CONNECTIONS)
        bare = run_load(url, RECOMMEND, bare_requests, args.seconds, CONNECTIONS)
        progress(args, f"bare {bare['rps']:.0f}/s")
        deployed = run_load(url, RECOMMEND, deployed_requests, args.seconds, CONNECTIONS)
        progress(args, f"deployment {deployed['rps']:.0f}/s")
        before = _settled_count(root)  # the throughput runs' records are all written first
        sent = _send_all(url, deployed_bodies, args.log_requests)
        deadline = time.monotonic() + 120
        stored = _count_logs(root) - before
        while stored < sent and time.monotonic() < deadline:
            time.sleep(0.2)
            stored = _count_logs(root) - before
    finally:
        server.terminate()
        server.join(30)
    ratio = float(deployed["rps"]) / float(bare["rps"])
    figures = {
        "machine": machine_info(),
        "load_generator": generator(),
        "connections": CONNECTIONS,
        "seconds": args.seconds,
        "bare": bare,
        "deployment": deployed,
        "ratio": ratio,
        "ratio_target": 0.7,
        "logged_requests_sent": sent,
        "log_records_stored": stored,
        "log_records_lost": sent - stored,
    }
    rows = [
        (name, f"{f['rps']:.0f}", f"{f['p50_ms']:.2f}", f"{f['p99_ms']:.2f}", str(f["non_2xx"]))
        for name, f in (
            ("bare model recommend (GET, item)", bare),
            ("deployment recommend: lookup + whitelist + logging", deployed),
        )
    ]
    rows.append(("ratio (target >= 0.7)", f"{ratio:.2f} {verdict(ratio >= 0.7)}", "", "", ""))
    lost = sent - stored
    rows.append((f"log records stored of {sent} answered", f"{stored}", "", "", ""))
    rows.append(("lost (target 0)", f"{lost} {verdict(lost == 0)}", "", "", ""))
    emit(
        args,
        figures,
        [
            table(
                "deployment serving",
                ("measure", "req/s", "p50 ms", "p99 ms", "non-2xx"),
                rows,
                caption=f"{generator()}, {CONNECTIONS} connections, {args.seconds:g} s each",
            )
        ],
    )


def _settled_count(root: Path, timeout: float = 120.0) -> int:
    """The log count once it stops growing (the logger has written its queue)."""
    deadline = time.monotonic() + timeout
    last = _count_logs(root)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _count_logs(root)
        if now == last:
            return now
        last = now
    raise RuntimeError("the prediction log did not settle")


def _count_logs(root: Path) -> int:
    import sqlite3

    with sqlite3.connect(root / "recostack.db") as connection:
        return int(connection.execute("SELECT count(*) FROM prediction_logs").fetchone()[0])


if __name__ == "__main__":
    main()
