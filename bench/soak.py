"""Soak: hold 70 % of the measured peak on the recommend and responses endpoints.

A server runs in a child process (uvicorn, one API process, with its
in-process worker; SQLite under a temporary directory, or ``--database-url``).
Client processes drive *interactions*: ``POST /api/deployments/{id}/recommend``
for a user, then ``POST /api/deployments/{id}/responses`` for that answer (a
take-up one time in five), on keep-alive connections.

1. **Peak**: a closed loop (every virtual user sends its next interaction as
   soon as the last one is answered) for ``--peak-seconds``: requests per second.
2. **Soak**: an open loop at ``--load`` (0.7) of that rate for ``--minutes``
   (default 30): interactions start on a fixed schedule whatever the answers'
   times, so a slowing server shows as latency, not as less load.

Figures (targets of issue 19): resident memory of the server process, sampled
every 5 s, grows less than 5 % from the end of the warm-up (``--warmup-seconds``)
to the end; each minute's p99 latency is at most 1.5x the first minute's;
nothing is lost: every answered recommendation is in the prediction log and
every recorded response in the response log (counted in the store after the
run), no request failed.

    .venv/bin/python bench/soak.py [--minutes 30] [--json] [--database-url URL]
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _common import emit, machine_info, parser, progress, table, verdict
from deployment import ADMIN, RECOMMEND, _serve  # the same server process, keys and store

DEPLOYMENT = "soak-web"
USERS, ITEMS = 2000, 500
CLIENTS = 2  # client processes (the server has the other core of a 2-core machine)
PEAK_USERS = 16  # virtual users per client process in the closed loop
MAX_IN_FLIGHT = 16  # interactions in flight per client process in the open loop
TAKE_UP_ONE_IN = 5


# --- the server ------------------------------------------------------------------------


def _setup(url: str) -> None:
    """A model trained on synthetic usage and a deployment serving it."""
    from recostack.client import Client

    client = Client(url, ADMIN, poll_seconds=0.1)
    for _ in range(600):
        try:
            client.list_projects()
            break
        except Exception:
            time.sleep(0.1)
    rng = random.Random(7)
    usage = "\n".join(
        f"u{u},i{rng.randrange(ITEMS)},2024-03-01T10:00:00" for u in range(USERS) for _ in range(10)
    )
    client.upload_file("soak", "usage.csv", usage)
    model = client.create_model(
        blob_container_name="soak",
        usage_relative_path="usage.csv",
        enable_user_to_item_recommendations=True,  # requests by userId: the personalized path
    )
    client.wait_for_model(model.id, timeout=600)
    client.create_project("soak")
    deployment = client.create_deployment("soak", DEPLOYMENT, model_id=model.id)
    deployment.wait_for_deployment(timeout=120)


# --- the clients -------------------------------------------------------------------------

Samples = tuple[list[float], list[float], list[int], list[int]]


class _Recorder:
    """Every request: when it started (s from the phase's start), latency (ms), which
    endpoint (0 recommend, 1 responses), status (0: no answer)."""

    def __init__(self, origin: float) -> None:
        self.origin = origin
        self.at: list[float] = []
        self.ms: list[float] = []
        self.kind: list[int] = []
        self.status: list[int] = []

    def add(self, start: float, kind: int, status: int, error: Exception | None = None) -> None:
        end = time.perf_counter()
        if error is not None:  # a request without an answer: say why, on stderr
            print(f"no answer after {end - start:.1f} s: {error!r}", file=sys.stderr)
        self.at.append(start - self.origin)
        self.ms.append((end - start) * 1000)
        self.kind.append(kind)
        self.status.append(status)

    def samples(self) -> Samples:
        return self.at, self.ms, self.kind, self.status


async def _interaction(
    http: Any, rng: random.Random, rec: _Recorder, scheduled: float | None = None
) -> None:
    """A recommendation, then a response to it. In the open loop the recommendation's
    latency counts from its ``scheduled`` start, not from when a free slot let it go: a
    server that falls behind shows as latency (no coordinated omission)."""
    body = {"userId": f"u{rng.randrange(USERS)}", "recommendationCount": 10}
    start = time.perf_counter() if scheduled is None else scheduled
    try:
        answer = await http.post(f"/api/deployments/{DEPLOYMENT}/recommend", json=body)
    except Exception as error:
        rec.add(start, 0, 0, error)
        return
    rec.add(start, 0, answer.status_code)
    if answer.status_code != 200:
        return
    response = {"requestId": answer.json()["requestId"]}
    if rng.randrange(TAKE_UP_ONE_IN) == 0:
        response["takeUp"] = True
    start = time.perf_counter()
    try:
        logged = await http.post(f"/api/deployments/{DEPLOYMENT}/responses", json=response)
    except Exception as error:
        rec.add(start, 1, 0, error)
        return
    rec.add(start, 1, logged.status_code)


async def _drive(url: str, seed: int, seconds: float, rate: float | None, start: float) -> Samples:
    import httpx

    rng = random.Random(seed)
    # idle connections are dropped by the client (2 s) before the server's keep-alive timeout
    # (uvicorn's 5 s) closes them: with both at 5 s a request sent on a connection the server
    # was closing at that instant failed with a ReadError (one in 196,643 in a 10-minute run)
    limits = httpx.Limits(
        max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(
        base_url=url, headers={"x-api-key": RECOMMEND}, limits=limits, timeout=60
    ) as http:
        while time.time() < start:  # every client process starts together
            await asyncio.sleep(0.01)
        origin = time.perf_counter()
        rec = _Recorder(origin)
        deadline = origin + seconds
        if rate is None:  # closed loop: each virtual user goes on as soon as it is answered

            async def user() -> None:
                while time.perf_counter() < deadline:
                    await _interaction(http, rng, rec)

            await asyncio.gather(*(user() for _ in range(PEAK_USERS)))
            return rec.samples()
        in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        tasks: set[asyncio.Task[None]] = set()

        async def one(scheduled: float) -> None:
            try:
                await _interaction(http, rng, rec, scheduled)
            finally:
                in_flight.release()

        n = 0
        while True:
            due = origin + n / rate
            if due >= deadline or time.perf_counter() >= deadline:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            # a server that falls far behind slows the schedule (the held rate says so)
            await in_flight.acquire()
            task = asyncio.create_task(one(due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        await asyncio.gather(*tasks)
        return rec.samples()


def _client(url: str, seed: int, seconds: float, rate: float | None, start: float) -> Samples:
    return asyncio.run(_drive(url, seed, seconds, rate, start))


def _phase(url: str, seconds: float, rate: float | None, seed: int) -> dict[str, np.ndarray]:
    """Run the client processes for ``seconds`` (``rate``: interactions per second in all,
    ``None``: closed loop); every request's samples, merged."""
    start = time.time() + 1.0
    per_client = None if rate is None else rate / CLIENTS
    with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
        parts = pool.starmap(
            _client, [(url, seed + c, seconds, per_client, start) for c in range(CLIENTS)]
        )
    merged = [np.concatenate([np.asarray(p[i]) for p in parts]) for i in range(4)]
    return dict(zip(("at", "ms", "kind", "status"), merged, strict=True))


# --- the figures --------------------------------------------------------------------------


class _Memory(threading.Thread):
    """The server process's resident memory every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        import psutil

        self.process = psutil.Process(pid)
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self._done = threading.Event()

    def run(self) -> None:
        origin = time.monotonic()
        while not self._done.is_set():
            self.samples.append((time.monotonic() - origin, self.process.memory_info().rss))
            self._done.wait(self.every)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _count(database_url: str, table_name: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = text(f"SELECT count(*) FROM {table_name} WHERE deployment_id = :d")
            return int(connection.execute(query, {"d": DEPLOYMENT}).scalar_one())
    finally:
        engine.dispose()


def _settled(database_url: str, table_name: str, timeout: float = 120.0) -> int:
    """The table's count once it stops growing (the loggers have written their queues)."""
    deadline = time.monotonic() + timeout
    last = _count(database_url, table_name)
    while time.monotonic() < deadline:
        time.sleep(2.0)
        now = _count(database_url, table_name)
        if now == last:
            return now
        last = now
    return last


def _per_minute_p99(at: np.ndarray, ms: np.ndarray, seconds: float) -> list[float]:
    """The p99 of each whole minute of a soak of ``seconds`` (a last partial minute, or the
    requests started in its final instant, make no minute of their own)."""
    minutes = (at // 60).astype(int)
    return [float(np.percentile(ms[minutes == m], 99)) for m in range(max(1, int(seconds // 60)))]


def main() -> None:
    p = parser("soak at 70 % of the measured peak: memory growth, p99 drift, nothing lost")
    p.add_argument("--minutes", type=float, default=30.0, help="length of the soak")
    p.add_argument("--peak-seconds", type=float, default=30.0)
    p.add_argument("--load", type=float, default=0.7, help="share of the peak held")
    p.add_argument("--warmup-seconds", type=float, default=60.0)
    p.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    p.add_argument(
        "--samples",
        default="",
        help="write every soak request (start s, latency ms, endpoint, status) to this CSV",
    )
    args = p.parse_args()

    root = Path(tempfile.mkdtemp(prefix="recostack-soak-"))
    database_url = args.database_url or f"sqlite:///{root / 'recostack.db'}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(str(root), port, database_url)
    )
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _setup(url)
        progress(args, "model trained and deployed; measuring the peak")
        _phase(url, 10, None, seed=1)  # warm the paths and the caches
        peak = _phase(url, args.peak_seconds, None, seed=2)
        peak_rps = len(peak["ms"]) / args.peak_seconds
        target = args.load * peak_rps
        progress(args, f"peak {peak_rps:.0f} requests/s; holding {target:.0f}/s")
        before = {t: _settled(database_url, t) for t in ("prediction_logs", "response_logs")}
        memory = _Memory(server.pid)  # type: ignore[arg-type]
        memory.start()
        soak = _phase(url, args.minutes * 60, target / 2, seed=3)  # 2 requests an interaction
        memory.stop()
        stored = {
            t: _settled(database_url, t) - before[t] for t in ("prediction_logs", "response_logs")
        }
    finally:
        server.terminate()
        server.join(30)

    if args.samples:  # to line stalls up with what the server did at the time
        columns = np.stack([soak["at"], soak["ms"], soak["kind"], soak["status"]], axis=1)
        order = np.argsort(columns[:, 0], kind="stable")
        np.savetxt(
            args.samples,
            columns[order],
            fmt=("%.4f", "%.2f", "%d", "%d"),
            delimiter=",",
            header="start_s,latency_ms,endpoint,status",
            comments="",
        )
    status, kind = soak["status"], soak["kind"]
    answered = int(np.sum((kind == 0) & (status == 200)))
    recorded = int(np.sum((kind == 1) & (status == 201)))
    bad = ~np.isin(status, (200, 201))
    failed = int(np.sum(bad))
    failures = (
        {
            f"{'recommend' if k == 0 else 'responses'} {s or 'no answer'}": int(n)
            for (k, s), n in zip(
                *np.unique(np.stack([kind[bad], status[bad]], axis=1), axis=0, return_counts=True),
                strict=True,
            )
        }
        if failed
        else {}
    )
    seconds = float(soak["at"].max()) if len(soak["at"]) else args.minutes * 60
    held_rps = len(soak["ms"]) / max(seconds, 1.0)
    rss = np.asarray(memory.samples, dtype=float)
    warm = rss[rss[:, 0] >= args.warmup_seconds]
    base_rss = float(warm[0, 1]) if len(warm) else float(rss[0, 1])
    end_rss = float(rss[-1, 1])
    growth = (end_rss - base_rss) / base_rss
    p99s = _per_minute_p99(soak["at"], soak["ms"], args.minutes * 60)
    drift = max(p99s) / p99s[0]
    # the trend without the start-up: the p99 of each third of the soak after the warm-up
    # (a first minute slowed by start-up makes the per-minute figure easy to meet)
    by_time = np.argsort(soak["at"], kind="stable")
    thirds = np.array_split(by_time[soak["at"][by_time] >= args.warmup_seconds], 3)
    p99_thirds = [float(np.percentile(soak["ms"][part], 99)) for part in thirds if len(part)]
    trend = max(p99_thirds) / p99_thirds[0] if p99_thirds else float("nan")
    # each endpoint's own: which of the two the drift comes from
    by_endpoint = {
        name: _per_minute_p99(soak["at"][kind == k], soak["ms"][kind == k], args.minutes * 60)
        for k, name in ((0, "recommend"), (1, "responses"))
    }
    lost_predictions = answered - stored["prediction_logs"]
    lost_responses = recorded - stored["response_logs"]
    figures: dict[str, Any] = {
        "machine": machine_info(),
        "database": "postgresql" if database_url.startswith("postgresql") else "sqlite",
        "minutes": args.minutes,
        "peak_rps": peak_rps,
        "peak_p99_ms": float(np.percentile(peak["ms"], 99)),
        "load_share": args.load,
        "target_rps": target,
        "held_rps": held_rps,
        "held_share_of_target": held_rps / target,
        "requests": len(soak["ms"]),
        "failed_requests": failed,
        "failures": failures,
        "soak_seconds": seconds,
        "p50_ms": float(np.percentile(soak["ms"], 50)),
        "p99_ms": float(np.percentile(soak["ms"], 99)),
        "p99_per_minute_ms": p99s,
        "p99_drift": drift,
        "p99_thirds_after_warmup_ms": p99_thirds,
        "p99_trend_after_warmup": trend,
        "p99_per_minute_ms_by_endpoint": by_endpoint,
        "p99_drift_by_endpoint": {name: max(v) / v[0] for name, v in by_endpoint.items()},
        "rss_after_warmup_mb": base_rss / 1e6,
        "rss_end_mb": end_rss / 1e6,
        "rss_max_mb": float(rss[:, 1].max()) / 1e6,
        "rss_growth": growth,
        "answers": answered,
        "prediction_logs_stored": stored["prediction_logs"],
        "responses": recorded,
        "response_logs_stored": stored["response_logs"],
        "lost": lost_predictions + lost_responses,
    }
    rows = [
        ("peak (closed loop)", f"{peak_rps:.0f} req/s", f"p99 {figures['peak_p99_ms']:.1f} ms"),
        (
            f"held for {args.minutes:g} min ({args.load:.0%} of the peak: {target:.0f} asked)",
            f"{held_rps:.0f} req/s",
            verdict(held_rps >= 0.95 * target),
        ),
        (
            "latency over the soak",
            f"p50 {figures['p50_ms']:.1f} ms",
            f"p99 {figures['p99_ms']:.1f} ms",
        ),
        (
            "p99 drift: worst minute / first (<= 1.5)",
            f"{drift:.2f}",
            verdict(drift <= 1.5),
        ),
        (
            "p99 of each third after the warm-up (worst / first)",
            " / ".join(f"{v:.1f}" for v in p99_thirds) + " ms",
            f"{trend:.2f}",
        ),
        (
            "resident memory after warm-up -> end (< 5 %)",
            f"{base_rss / 1e6:.0f} -> {end_rss / 1e6:.0f} MB ({growth:+.1%})",
            verdict(growth < 0.05),
        ),
        ("failed requests", f"{failed} {failures or ''}", verdict(failed == 0)),
        (
            "answers / prediction logs stored",
            f"{answered} / {stored['prediction_logs']}",
            verdict(lost_predictions == 0),
        ),
        (
            "responses / response logs stored",
            f"{recorded} / {stored['response_logs']}",
            verdict(lost_responses == 0),
        ),
    ]
    minutes = [
        (f"minute {m + 1}", f"{v:.1f} ms", f"{r:.1f} / {b:.1f} ms")
        for m, (v, r, b) in enumerate(
            zip(p99s, by_endpoint["recommend"], by_endpoint["responses"], strict=True)
        )
    ]
    emit(
        args,
        figures,
        [
            table("soak", ("measure", "value", ""), rows, caption=f"{figures['database']}"),
            table("p99 per minute", ("minute", "p99", "recommend / responses"), minutes),
        ],
    )


if __name__ == "__main__":
    main()
