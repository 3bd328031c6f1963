"""Several replicas agree (issue 19, point 1), at the issue's full size.

Starts what ``tests/reliability/test_replicas.py`` starts (3 ``recostack
serve`` replicas and 2 ``recostack worker`` processes on a new schema of the
shared PostgreSQL server, behind a round-robin proxy on loopback) and
measures, with the same code:

- propagation: each kind of change (default model, scenario, promotion,
  rollback, online learning configuration, key rotation) made through one
  replica, ``--rounds`` times, timed until every replica serves it
  (target: the worst within 1 s);
- promotions under load: ``--promotions`` promotions and as many rollbacks
  while 6 threads ask the deployment through the proxy (target: 0 failed);
- online learning: ``--responses`` responses (30,000 by default) spread
  over the replicas through the proxy, every arm's totals compared with
  what the responses imply (target: exact).

    .venv/bin/python bench/replicas.py [--json] [--responses 30000] [--rounds 5]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))  # the reliability tests' helpers

from _common import emit, machine_info, parser, progress, table, verdict

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_SECONDS = 1.0


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--responses", type=int, default=30_000, help="online learning responses")
    p.add_argument("--rounds", type=int, default=5, help="times each change is made")
    p.add_argument("--promotions", type=int, default=5, help="promotions (and rollbacks)")
    p.add_argument("--database-url", default=POSTGRES, help="PostgreSQL (a schema is made)")
    args = p.parse_args()

    from reliability._online_load import run_online_load
    from reliability._replica_set import LOADED, promotion_under_load, propagation, replica_set

    figures: dict[str, Any] = {"machine": machine_info()}
    root = Path(tempfile.mkdtemp(prefix="recostack-replicas-"))
    started = time.monotonic()
    with replica_set(args.database_url, root) as replicas:
        figures["startup_seconds"] = time.monotonic() - started
        progress(args, f"3 replicas, 2 workers, proxy: up in {figures['startup_seconds']:.1f} s")
        delays: dict[str, list[float]] = {}
        for n in range(args.rounds):
            for what, seconds in propagation(replicas).items():
                delays.setdefault(what, []).append(seconds)
            progress(args, f"propagation round {n + 1}/{args.rounds}")
        outcomes, _served = promotion_under_load(replicas, rounds=args.promotions)
        progress(args, f"promotions under load: {dict(outcomes)}")
        totals = run_online_load(
            replicas.url,
            replicas.engine,
            args.responses,
            LOADED,
            replicas.online_configs[LOADED],
            timeout=600,
        )
        progress(args, f"online learning: {totals.responses} responses in {totals.seconds:.1f} s")
    worst = max(max(v) for v in delays.values())
    failed = sum(n for status, n in outcomes.items() if status != 200)
    exact = totals.stored == totals.expected and totals.response_logs == totals.responses
    figures |= {
        "propagation_seconds": {
            what: {"median": statistics.median(v), "worst": max(v)} for what, v in delays.items()
        },
        "propagation_worst_seconds": worst,
        "promotion_requests": sum(outcomes.values()),
        "promotion_failed_requests": failed,
        "promotion_statuses": dict(outcomes),
        "online_answers": totals.answers,
        "online_responses": totals.responses,
        "online_seconds": totals.seconds,
        "online_responses_per_second": totals.responses / totals.seconds,
        "online_response_logs": totals.response_logs,
        "online_totals_exact": exact,
    }
    tables = [
        table(
            f"Propagation to every replica ({args.rounds} rounds; target ≤ {TARGET_SECONDS} s)",
            ["change", "median s", "worst s", "verdict"],
            [
                (what, statistics.median(v), max(v), verdict(max(v) <= TARGET_SECONDS))
                for what, v in delays.items()
            ],
        ),
        table(
            "Under load",
            ["claim", "measured", "verdict"],
            [
                (
                    f"{2 * args.promotions} promotions/rollbacks: failed requests",
                    f"{failed} of {sum(outcomes.values())}",
                    verdict(failed == 0),
                ),
                (
                    f"online learning: {totals.responses} responses to {totals.answers} answers",
                    f"{totals.seconds:.1f} s, totals {'exact' if exact else 'WRONG'}",
                    verdict(exact),
                ),
            ],
        ),
    ]
    emit(args, figures, tables)


if __name__ == "__main__":
    main()
