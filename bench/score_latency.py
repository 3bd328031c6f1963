"""Latency of one personalized request inside the library: history of 20 events → top 10.

    .venv-bench/bin/python bench/score_latency.py [--quick] [--json]

Models: SAR Jaccard (threshold 1, user affinity, half-life 30 days) fitted
on MovieLens 100K, on ``zipf-2m`` (20k items) and on ``zipf-10m`` (50k
items; pruned to 100 neighbours per item, and unpruned). Requests: random
users with at least 20 events, each sending its 20 latest events; the
user's items are removed from the answer. One thread, ``--repeats`` timed
calls per path after a warm-up, cycling over the sampled histories (a path
stops after 30 s once it has 300 calls).

Paths:

* ``TrainedModel.score_history`` — index level: (item indices, affinities)
  → scored candidates → top 10 (the affinities are computed beforehand);
* ``TrainedModel.recommend_events`` — string ids and event objects →
  affinities (time decay) → top 10 → ``Recommendation`` objects;
* item-to-item: ``score_item`` (index) and ``recommend_item`` (string id),
  seeds drawn from the events (so popular items come up more often);
* baselines of BENCHMARKS.md on the same similarity: a scipy sparse row ×
  the sparse similarity (CSR) + argpartition, and × the dense similarity
  where it fits in ``--dense-limit-gb``.

Target (issue 3): p50 ≤ 200 µs for 50k items.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import scipy.sparse as sp

from _common import GB, emit, fmt, machine_info, parser, progress, table, verdict
from _data import Events, index_events, load_events

K = 10
HISTORY = 20
HALF_LIFE_DAYS = 30
TARGET_ITEMS = 50_000
TARGET_P50_US = 200.0
BUDGET_SECONDS = 30.0  # per path: slow paths stop early, after MIN_CALLS at least
MIN_CALLS = 300


@dataclass(frozen=True)
class ModelSpec:
    key: str
    name: str
    dataset: str
    max_neighbors: int = 0


SPECS = (
    ModelSpec("ml-100k", "ML-100K", "ml-100k"),
    ModelSpec("20k", "20k items", "zipf-2m"),
    ModelSpec("50k-pruned", "50k items, 100 neighbours", "zipf-10m", 100),
    ModelSpec("50k", "50k items, unpruned", "zipf-10m"),
)


def build(spec: ModelSpec, events: Events):
    """Fit SAR Jaccard and wrap it as the service would load it."""
    from recostack.algorithms.sar import SAR, SARConfig
    from recostack.data.ids import Vocabulary
    from recostack.training.trained_model import ServingOptions, TrainedModel

    inter, _, item_ids = index_events(events)
    sar = SAR(
        SARConfig(
            support_threshold=1,
            similarity_function="Jaccard",
            enable_user_affinity=True,
            half_life_days=HALF_LIFE_DAYS,
            max_neighbors=spec.max_neighbors,
        )
    ).fit(inter)
    assert sar.item_item is not None
    model = TrainedModel(
        algorithm="sar",
        items=Vocabulary(np.char.add("i", item_ids.astype(str))),
        item_item=sar.item_item,
        options=ServingOptions(
            enable_user_affinity=True,
            half_life_days=HALF_LIFE_DAYS,
            reference_time=inter.latest_time,
        ),
    )
    return model, inter


def sample_requests(inter, model, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` random users with ≥ HISTORY events: their HISTORY latest events."""
    from recostack.training.trained_model import UsageEvent

    rng = np.random.default_rng(seed)
    order = np.lexsort((inter.timestamp, inter.user_index))
    users = inter.user_index[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], users.size]
    eligible = np.flatnonzero(ends - starts >= HISTORY)
    chosen = rng.choice(eligible, size=min(n, eligible.size), replace=False)
    out = []
    for g in chosen:
        rows = order[ends[g] - HISTORY : ends[g]]
        events = [
            UsageEvent(
                item_id=str(model.items.ids[inter.item_index[r]]),
                timestamp=datetime.fromtimestamp(int(inter.timestamp[r]), UTC),
                weight=float(inter.weight[r]),
            )
            for r in rows
        ]
        items, weights = model.event_affinities(events)
        out.append({"events": events, "items": items, "weights": weights})
    return out


def timed(
    call: Callable[[Any], Any], inputs: list[Any], repeats: int, budget: float = BUDGET_SECONDS
) -> dict[str, float]:
    """Time ``repeats`` calls (fewer, but at least MIN_CALLS, once ``budget`` s are spent)."""
    for x in inputs[: min(len(inputs), 100)]:  # warm-up: caches, lookups
        call(x)
    times = np.empty(repeats, dtype=np.int64)
    clock = time.perf_counter_ns
    n = len(inputs)
    gc.collect()
    deadline = clock() + int(budget * 1e9)
    done = 0
    for i in range(repeats):
        x = inputs[i % n]
        t0 = clock()
        call(x)
        t1 = clock()
        times[i] = t1 - t0
        done = i + 1
        if done >= MIN_CALLS and t1 > deadline:
            break
    us = times[:done] / 1000.0
    return {
        "p50_us": float(np.percentile(us, 50)),
        "p90_us": float(np.percentile(us, 90)),
        "p99_us": float(np.percentile(us, 99)),
        "mean_us": float(us.mean()),
        "calls": done,
    }


def sparse_row_baseline(similarity: sp.csr_matrix | np.ndarray, n_items: int):
    """BENCHMARKS.md's baseline: scipy sparse row × similarity, seen removed, argpartition."""

    def call(req: dict[str, Any]) -> np.ndarray:
        items, weights = req["items"], req["weights"]
        row = sp.csr_matrix(
            (weights, items, np.array([0, items.size])), shape=(1, n_items), dtype=np.float32
        )
        product = row @ similarity
        scores = np.asarray(product.toarray() if sp.issparse(product) else product).ravel()
        scores[items] = -np.inf
        top = np.argpartition(-scores, K)[:K]
        return top[np.argsort(-scores[top])]

    return call


def measure_model(spec: ModelSpec, args) -> dict[str, Any]:
    events = load_events(spec.dataset)
    progress(args, f"fit {spec.name} ...")
    model, inter = build(spec, events)
    del events
    requests = sample_requests(inter, model, args.histories, seed=7)
    rng = np.random.default_rng(11)
    seeds = inter.item_index[rng.integers(0, inter.n_events, args.histories)].astype(np.int64)
    seed_ids = [str(model.items.ids[i]) for i in seeds]
    del inter
    ii = model.item_item
    paths: dict[str, dict[str, float]] = {}
    progress(args, f"time {spec.name} ...")
    paths["TrainedModel.score_history (index level)"] = timed(
        lambda r: model.score_history(r["items"], r["weights"], K), requests, args.repeats
    )
    paths["TrainedModel.recommend_events (ids → Recommendation)"] = timed(
        lambda r: model.recommend_events(r["events"], K), requests, args.repeats
    )
    paths["item-to-item: score_item (index level)"] = timed(
        lambda i: model.score_item(int(i), K), list(seeds), args.repeats
    )
    paths["item-to-item: recommend_item (string id)"] = timed(
        lambda i: model.recommend_item(i, K), seed_ids, args.repeats
    )
    similarity = ii.to_csr()
    baseline_repeats = max(200, args.repeats // 5)
    paths["baseline: scipy sparse row × sparse similarity"] = timed(
        sparse_row_baseline(similarity, ii.n_items), requests, baseline_repeats
    )
    dense_bytes = ii.n_items**2 * 4
    if dense_bytes <= args.dense_limit_gb * GB:
        dense = similarity.toarray()
        paths["baseline: scipy sparse row × dense similarity"] = timed(
            sparse_row_baseline(dense, ii.n_items), requests, baseline_repeats
        )
        del dense
    history_items = float(np.mean([r["items"].size for r in requests]))
    return {
        "model": spec.name,
        "dataset": spec.dataset,
        "n_items": ii.n_items,
        "max_neighbors": spec.max_neighbors,
        "similarity_nnz": ii.nnz,
        "similarity_mb": ii.nbytes / 1e6,
        "mean_row_length": ii.nnz / max(1, ii.n_items),
        "histories": len(requests),
        "distinct_items_per_history": history_items,
        "paths": paths,
    }


def single_thread():
    """Limit BLAS/OpenMP pools to one thread (scoring uses none, but be sure)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="only ML-100K and 20k items")
    p.add_argument("--models", nargs="*", choices=[s.key for s in SPECS], help="a subset")
    p.add_argument("--repeats", type=int, default=5000, help="timed calls per path (5000)")
    p.add_argument("--histories", type=int, default=1000, help="sampled users (1000)")
    p.add_argument("--dense-limit-gb", type=float, default=4.0, help="dense baseline cap")
    args = p.parse_args()
    specs = [s for s in SPECS if not args.quick or s.dataset != "zipf-10m"]
    if args.models:
        specs = [s for s in specs if s.key in args.models]
    results = []
    with single_thread():
        for spec in specs:
            results.append(measure_model(spec, args))
            gc.collect()
    checks = []
    for r in results:
        if r["n_items"] < TARGET_ITEMS:
            continue
        for path in (
            "TrainedModel.score_history (index level)",
            "TrainedModel.recommend_events (ids → Recommendation)",
        ):
            p50 = r["paths"][path]["p50_us"]
            checks.append(
                {"model": r["model"], "path": path, "p50_us": p50, "pass": p50 <= TARGET_P50_US}
            )
    figures = {
        "machine": machine_info(),
        "settings": {
            "k": K,
            "history_events": HISTORY,
            "repeats": args.repeats,
            "threads": 1,
            "similarity": "SAR Jaccard, threshold 1, half-life 30 d",
        },
        "models": results,
        "targets": checks,
    }
    emit(args, figures, render(results, checks))


def render(results, checks) -> list[Any]:
    rows = []
    for r in results:
        for path, t in r["paths"].items():
            rows.append(
                [
                    r["model"],
                    path,
                    fmt(t["p50_us"], 0),
                    fmt(t["p90_us"], 0),
                    fmt(t["p99_us"], 0),
                    fmt(t["mean_us"], 0),
                    t["calls"],
                ]
            )
    models = table(
        "Models",
        ["model", "items", "similarity nnz", "mean row length", "MB", "distinct items/history"],
        [
            [
                r["model"],
                r["n_items"],
                r["similarity_nnz"],
                fmt(r["mean_row_length"], 0),
                fmt(r["similarity_mb"], 0),
                fmt(r["distinct_items_per_history"], 1),
            ]
            for r in results
        ],
        caption="SAR Jaccard, support threshold 1, user affinity with half-life 30 d",
    )
    latency = table(
        f"One request: {HISTORY}-event history → top {K}, seen removed (µs, one thread)",
        ["model", "path", "p50", "p90", "p99", "mean", "calls"],
        rows,
    )
    goal = table(
        f"Target: p50 ≤ {TARGET_P50_US:.0f} µs for {TARGET_ITEMS:,} items",
        ["model", "path", "p50 µs", "target"],
        [[c["model"], c["path"], fmt(c["p50_us"], 0), verdict(c["pass"])] for c in checks],
    )
    return [models, latency, goal]


if __name__ == "__main__":
    main()
