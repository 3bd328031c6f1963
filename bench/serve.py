"""HTTP serving throughput and latency: Recostack vs a constant FastAPI app, same run.

Starts ``recostack serve`` (one API process, embedded SQLite, its own data
directory under the bench cache) with a SAR model trained through the API on
the 20k-item Zipf data set (``zipf-2m``), and, in the same run, a minimal
FastAPI app whose async endpoint returns a constant list of 10 items. Both
are driven by the same load generator on loopback (wrk with a Lua script
that varies the seed item / history per request, else an async httpx loop),
for the item-to-item (GET) and personalized (POST, 20-event history)
endpoints. Targets (issue 4): Recostack's throughput ≥ 0.8× the constant
app's, p99 ≤ 2× its p99.

    .venv/bin/python bench/serve.py [--duration 8] [--connections 32] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cache_dir, emit, machine_info, parser, progress, table, verdict
from _data import load_events
from _load import Request, generator, run_load

ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "bench-admin-key-0123456789abcdef0123456789"
RECOMMEND_KEY = "bench-recommend-key-0123456789abcdef012345"
CONSTANT_APP = """
from fastapi import FastAPI
app = FastAPI()
ITEMS = [{"recommendedItemId": f"i{i}", "score": 1.0 / (i + 1)} for i in range(10)]
@app.get("/api/models/default/recommend")
async def item_to_item(itemId: str = "", recommendationCount: int = 10):
    return ITEMS
@app.post("/api/models/default/recommend")
async def personalized(recommendationCount: int = 10):
    return ITEMS
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


def usage_csv(max_events: int) -> tuple[Path, list[str]]:
    """The zipf-2m events as a usage CSV (cached); returns it and the item ids."""
    events = load_events("zipf-2m")
    path = cache_dir() / f"serve-usage-{max_events}.csv"
    if not path.exists():
        n = min(max_events, events.n_events)
        times = np.datetime_as_string(events.timestamp[:n].astype("datetime64[s]"), unit="s")
        lines = [
            f"u{u},i{i},{t},,{w:g}"
            for u, i, t, w in zip(
                events.user[:n].tolist(),
                events.item[:n].tolist(),
                times.tolist(),
                events.weight[:n].tolist(),
                strict=True,
            )
        ]
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.rename(path)
    items = np.unique(events.item[: min(max_events, events.n_events)])
    return path, [f"i{i}" for i in items.tolist()]


def start_recostack(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RECOSTACK_ADMIN_KEY": ADMIN_KEY,
        "RECOSTACK_RECOMMEND_KEY": RECOMMEND_KEY,
        "RECOSTACK_LOG_LEVEL": "warning",
    }
    cmd = [
        str(ROOT / ".venv" / "bin" / "recostack"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def train_model(base: str, usage: Path, max_neighbors: int) -> dict[str, Any]:
    headers = {"x-api-key": ADMIN_KEY}
    with httpx.Client(base_url=base, headers=headers, timeout=300) as client:
        with usage.open("rb") as fh:
            client.put("/api/files/bench/usage.csv", content=fh).raise_for_status()
        body = {
            "description": "serve bench",
            "blobContainerName": "bench",
            "usageRelativePath": "usage.csv",
            "supportThreshold": 3,
            "similarityFunction": "Jaccard",
            "enableUserAffinity": True,
            "maxNeighbors": max_neighbors,
        }
        created = client.post("/api/models", json=body)
        created.raise_for_status()
        model_id = created.json()["id"]
        deadline = time.time() + 600
        while time.time() < deadline:
            model = client.get(f"/api/models/{model_id}").json()
            if model["modelStatus"] in ("Completed", "Failed"):
                break
            time.sleep(0.5)
        if model["modelStatus"] != "Completed":
            raise RuntimeError(f"training failed: {model.get('modelStatusMessage')}")
        client.put("/api/models/default", params={"modelId": model_id}).raise_for_status()
        return dict(model)


def load_requests(kind: str, items: list[str], history: int, n: int = 2000) -> list[Request]:
    """``n`` requests in random order: seed items, or ``history``-event bodies."""
    rng = random.Random(0)
    sample = items[:5000]
    path = "/api/models/default/recommend"
    if kind == "item":
        return [
            ("GET", f"{path}?itemId={rng.choice(sample)}&recommendationCount=10", None)
            for _ in range(n)
        ]
    return [
        (
            "POST",
            f"{path}?recommendationCount=10",
            json.dumps([{"itemId": rng.choice(sample)} for _ in range(history)]),
        )
        for _ in range(n)
    ]


def main() -> None:
    p: argparse.ArgumentParser = parser(__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=8, help="seconds per load run")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--history", type=int, default=20, help="events in a personalized request")
    p.add_argument("--events", type=int, default=2_000_000, help="training events (zipf-2m)")
    p.add_argument("--max-neighbors", type=int, default=100, help="maxNeighbors of the model")
    args = p.parse_args()
    usage, items = usage_csv(args.events)
    data_dir = Path(tempfile.mkdtemp(prefix="serve-", dir=cache_dir()))
    port, const_port = free_port(), free_port()
    app_file = data_dir / "constant_app.py"
    app_file.write_text(CONSTANT_APP)
    server = start_recostack(data_dir, port)
    constant = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "constant_app:app",
            "--port",
            str(const_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=data_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, dict[str, dict[str, float]]] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/openapi.json")
        wait_http(f"http://127.0.0.1:{const_port}/docs")
        progress(args, f"training a model on {usage.name} through the API ...")
        model = train_model(base, usage, args.max_neighbors)
        progress(args, f"model {model['id']} completed; loading it with a warm-up request")
        httpx.get(
            base + "/api/models/default/recommend",
            params={"itemId": items[0]},
            headers={"x-api-key": RECOMMEND_KEY},
            timeout=60,
        ).raise_for_status()
        for kind in ("item", "personalized"):
            for name, url in (("constant", f"http://127.0.0.1:{const_port}"), ("recostack", base)):
                progress(args, f"load: {name} {kind} for {args.duration} s")
                figures = run_load(
                    url,
                    RECOMMEND_KEY,
                    load_requests(kind, items, args.history),
                    args.duration,
                    args.connections,
                )
                results.setdefault(kind, {})[name] = figures
    finally:
        for proc in (server, constant):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(data_dir, ignore_errors=True)

    rows = []
    verdicts: dict[str, dict[str, bool]] = {}
    for kind, pair in results.items():
        c, r = pair["constant"], pair["recostack"]
        rps_ok = r["rps"] >= 0.8 * c["rps"]
        p99_ok = r["p99_ms"] <= 2 * c["p99_ms"]
        verdicts[kind] = {"throughput": rps_ok, "p99": p99_ok}
        for name, f in (("constant FastAPI", c), ("Recostack", r)):
            rows.append([kind, name, f["rps"], f["p50_ms"], f["p99_ms"], f["non_2xx"]])
        rows.append(
            [
                kind,
                "ratio / target",
                r["rps"] / c["rps"],
                "",
                r["p99_ms"] / c["p99_ms"],
                f"{verdict(rps_ok)} ≥0.8× rps, {verdict(p99_ok)} p99 ≤2×",
            ]
        )
    figures_out = {
        "machine": machine_info(),
        "load_generator": generator(),
        "connections": args.connections,
        "duration_s": args.duration,
        "model": {
            "id": model["id"],
            "statistics": model.get("statistics", {}),
            "maxNeighbors": args.max_neighbors,
        },
        "results": results,
        "targets": verdicts,
    }
    emit(
        args,
        figures_out,
        [
            table(
                "HTTP serving on loopback: same load on both apps, same run",
                ["endpoint", "app", "RPS", "p50 ms", "p99 ms", "non-2xx"],
                rows,
                caption=(
                    f"{figures_out['load_generator']}, {args.connections} connections, "
                    f"{args.duration} s each; SAR Jaccard on zipf-2m (20k items), maxNeighbors "
                    f"{args.max_neighbors}; personalized = {args.history}-event history"
                ),
            )
        ],
    )


if __name__ == "__main__":
    main()
