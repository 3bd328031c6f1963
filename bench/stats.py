"""Statistics over time from rollups: a 7-day range over 10M logged requests, SQLite and PostgreSQL.

Feeds ``--requests`` (default 10M) answers of one deployment, spread evenly
over ``--days`` (7) and a pool of 1M users, through the same code the
prediction logger calls once a batch of logs is stored
(``DeploymentStatistics.add_answers``, 2,000 records a batch), flushing its
rollups into the store (``merge_rollups``) as a server does; then times
``statistics_over_time`` (what ``GET /api/deployments/{id}/statistics``
answers) for the 7 days (hourly), one day by the minute and 30 days by the
day. Target: the 7-day answer in ≤ 200 ms on both databases. The raw
prediction logs are not written: a statistics query never reads them.

    .venv/bin/python bench/stats.py [--json] [--requests 10000000] [--database sqlite|both]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _common import emit, machine_info, parser, progress, table, verdict

TARGET_MS = 200.0
BATCH = 2000
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _database(kind: str) -> tuple[str, Any]:
    """A fresh database URL and a function that drops it."""
    if kind == "sqlite":
        root = Path(tempfile.mkdtemp(prefix="recostack-stats-"))
        return f"sqlite:///{root / 'stats.db'}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"rs_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def _feed(db: Any, requests: int, days: int, start: datetime, args: Any) -> dict[str, float]:
    from recostack.serving.prediction_logger import PredictionRecord
    from recostack.serving.statistics import DeploymentStatistics
    from recostack.store.statistics_repository import merge_rollups

    rollups = DeploymentStatistics(lambda deltas: merge_rollups(db.engine, deltas))
    step = timedelta(days=days) / requests
    adding = flushing = 0.0
    made = 0
    users = 1_000_000
    while made < requests:
        n = min(BATCH, requests - made)
        batch = [
            PredictionRecord(
                "",
                "bench",
                "1" if (made + i) % 10 else "2",
                "m",
                f"u{((made + i) * 7919) % users}",
                "[]",
                "{}",
                start + step * (made + i),
                1.0 + ((made + i) * 37 % 1000) / 50.0,
            )
            for i in range(n)
        ]
        t = time.perf_counter()
        rollups.add_answers(batch)
        adding += time.perf_counter() - t
        made += n
        if made % (BATCH * 50) == 0 or made == requests:
            t = time.perf_counter()
            rollups.flush()
            flushing += time.perf_counter() - t
            if made % (BATCH * 500) == 0:
                progress(args, f"  {made:,} answers rolled up")
    return {"add_answers_s": adding, "flush_s": flushing, "per_answer_us": adding / made * 1e6}


def _time_query(
    db: Any, start: datetime, end: datetime, interval: Any, runs: int = 7
) -> dict[str, Any]:
    from recostack.services.statistics import statistics_over_time

    times = []
    for _ in range(runs):
        t = time.perf_counter()
        found = statistics_over_time(db, None, "bench", start, end, interval)
        times.append((time.perf_counter() - t) * 1000)
    return {
        "median_ms": statistics.median(times),
        "max_ms": max(times),
        "intervals": len(found.buckets),
        "requests": found.summary.requests,
        "distinct_users": found.summary.users.estimate(),
    }


def run(kind: str, args: Any) -> dict[str, Any]:
    from recostack.serving.deployments.records import Environment
    from recostack.store import deployment_repository as repo
    from recostack.store.engine import Database
    from recostack.store.migrate import upgrade

    url, drop = _database(kind)
    db = Database.open(url)
    try:
        upgrade(db.engine)
        with db.transaction() as session:
            repo.create_project(session, "bench")
            repo.create_deployment(
                session,
                project_id="bench",
                deployment_id="bench",
                version="1",
                description=None,
                environment=Environment.EXPERIMENT,
                model_ids=["m"],
                settings={},
            )
        start = datetime(2026, 1, 1, tzinfo=UTC)
        progress(args, f"{kind}: rolling up {args.requests:,} answers over {args.days} days")
        fed = _feed(db, args.requests, args.days, start, args)
        end = start + timedelta(days=args.days)
        queries = {
            f"{args.days} days, hourly": _time_query(db, start, end, None),
            "1 day, by the minute": _time_query(db, start, start + timedelta(days=1), "minute"),
            "30 days, daily": _time_query(db, start, start + timedelta(days=30), None),
        }
        return {"feed": fed, "queries": queries}
    finally:
        db.dispose()
        drop()


def main() -> None:
    p = parser("statistics over time from rollups, SQLite and PostgreSQL")
    p.add_argument("--requests", type=int, default=10_000_000)
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = p.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = {kind: run(kind, args) for kind in kinds}
    rows = []
    for kind, found in results.items():
        for name, q in found["queries"].items():
            ok = q["median_ms"] <= TARGET_MS
            rows.append(
                (
                    kind,
                    name,
                    f"{q['intervals']}",
                    f"{q['requests']:,}",
                    f"{q['median_ms']:.1f}",
                    f"{q['max_ms']:.1f}",
                    verdict(ok) if name.endswith("hourly") else "",
                )
            )
        feed = found["feed"]
        rows.append(
            (
                kind,
                f"rollup: {feed['per_answer_us']:.2f} µs/answer, flushes {feed['flush_s']:.1f} s",
                "",
                "",
                "",
                "",
                "",
            )
        )
    emit(
        args,
        {"machine": machine_info(), "requests": args.requests, "days": args.days, **results},
        [
            table(
                "statistics over time (statistics_over_time, median of 7)",
                ("database", "range", "intervals", "requests", "median ms", "max ms", "≤ 200 ms"),
                rows,
                caption=f"{args.requests:,} answers over {args.days} days, 1M users",
            )
        ],
    )


if __name__ == "__main__":
    main()
