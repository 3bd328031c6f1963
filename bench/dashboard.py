"""The dashboard's pages on a busy server: 100 models and 50 deployments.

A server runs in a child process (uvicorn, one process, SQLite under a
temporary directory); 100 small models are trained through the API and 50
deployments made of them, each answering a few requests. Every page is then
fetched ``--repeats`` times, signed in as an admin, one request at a time
on loopback, and its answer time measured (target: ≤ 100 ms at p95).

    .venv/bin/python bench/dashboard.py [--json] [--repeats 30]
"""

from __future__ import annotations

import multiprocessing
import random
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import httpx

from _common import emit, machine_info, parser, progress, table, verdict

ADMIN = "bench-admin-key-0123456789abcdef0123456789"
RECOMMEND = "bench-recommend-key-0123456789abcdef01234"
MODELS, DEPLOYMENTS, TARGET_MS = 100, 50, 100.0


def _serve(data_dir: str, port: int) -> None:
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
        workers_in_process=2,
        train_in_subprocess=False,
        job_poll_seconds=0.1,
        log_level="warning",
    )
    db = Database.open(settings.effective_database_url)
    upgrade(db.engine)
    with db.transaction() as session:
        ensure_keys(session, {Role.ADMIN: ADMIN, Role.RECOMMEND: RECOMMEND}, key_secret(settings))
    db.dispose()
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def _populate(api: httpx.Client, args: Any) -> tuple[str, str]:
    rng = random.Random(3)
    usage = "\n".join(
        f"u{u},i{rng.randrange(200)},2024-03-{1 + k % 28:02d}T10:00:00"
        for u in range(300)
        for k in range(12)
    )
    catalog = "\n".join(f"i{i},Item {i},c{i % 9}" for i in range(200))
    api.put("/api/files/bench/usage.csv", content=usage).raise_for_status()
    api.put("/api/files/bench/eval.csv", content=usage[: len(usage) // 4]).raise_for_status()
    api.put("/api/files/bench/catalog.csv", content=catalog).raise_for_status()
    body = {
        "blobContainerName": "bench",
        "usageRelativePath": "usage.csv",
        "catalogFileRelativePath": "catalog.csv",
        "evaluationUsageRelativePath": "eval.csv",
        "supportThreshold": 3,
    }
    ids = []
    for n in range(MODELS):
        created = api.post("/api/models", json={**body, "description": f"bench model {n}"})
        created.raise_for_status()
        ids.append(created.json()["id"])
    for model_id in ids:
        while api.get(f"/api/models/{model_id}").json()["modelStatus"] not in ("Completed",):
            time.sleep(0.2)
    progress(args, f"{MODELS} models trained")
    api.post("/api/projects", json={"projectId": "bench"}).raise_for_status()
    for n in range(DEPLOYMENTS):
        api.post(
            "/api/projects/bench/deployments",
            json={"deploymentId": f"web{n}", "version": "1", "modelId": ids[n % 5]},
        ).raise_for_status()
    for n in range(DEPLOYMENTS):
        while api.get(f"/api/deployments/web{n}").json()["status"] != "ACTIVE":
            time.sleep(0.1)
    with httpx.Client(base_url=str(api.base_url), headers={"x-api-key": RECOMMEND}) as rec:
        for n in range(DEPLOYMENTS):
            for u in range(20):
                rec.post(
                    f"/api/deployments/web{n}/recommend", json={"userId": f"u{u}", "itemId": "i1"}
                ).raise_for_status()
    progress(args, f"{DEPLOYMENTS} deployments answering")
    return ids[0], "web0"


def main() -> None:
    p = parser("the dashboard's pages with 100 models and 50 deployments")
    p.add_argument("--repeats", type=int, default=30)
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="recostack-dashboard-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(root), port))
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, headers={"x-api-key": ADMIN}, timeout=60) as api:
            for _ in range(300):
                try:
                    api.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            model_id, deployment_id = _populate(api, args)
        pages = [
            "/",
            "/models",
            f"/models/{model_id}",
            "/models/new",
            "/deployments",
            f"/deployments/{deployment_id}",
            f"/deployments/{deployment_id}/charts.json",
            "/scenarios",
            "/online-learning",
            "/jobs",
        ]
        rows, figures = [], {}
        with httpx.Client(base_url=url, timeout=60) as browser:
            signed = browser.post("/login", data={"key": ADMIN}, follow_redirects=False)
            assert signed.status_code == 303, signed.text
            for page in pages:
                times = []
                for _ in range(args.repeats + 3):
                    started = time.perf_counter()
                    answer = browser.get(page)
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200, (page, answer.status_code)
                times = sorted(times[3:])
                p50 = statistics.median(times)
                p95 = times[int(0.95 * (len(times) - 1))]
                figures[page] = {"p50_ms": p50, "p95_ms": p95, "max_ms": times[-1]}
                rows.append((page, p50, p95, times[-1], verdict(p95 <= TARGET_MS)))
        emit(
            args,
            {"machine": machine_info(), "pages": figures, "target_ms": TARGET_MS},
            [
                table(
                    f"Dashboard pages, {MODELS} models and {DEPLOYMENTS} deployments",
                    ["page", "p50 ms", "p95 ms", "max ms", f"p95 ≤ {TARGET_MS:.0f} ms"],
                    rows,
                    caption=f"one request at a time on loopback, {args.repeats} each, signed in",
                )
            ],
        )
    finally:
        server.terminate()
        server.join(10)


if __name__ == "__main__":
    main()
