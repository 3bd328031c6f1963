"""Peers measured beside Recostack in ``quality.py``: implicit's models and ``recostack tune``.

implicit (0.7.3, bench environment only) gets the training ratings as its
``user_items`` matrix, the way its documentation feeds MovieLens to it, and
recommends from the same rows with the user's items filtered out. Its BLAS
is held to one thread around ALS (implicit warns otherwise; it runs its own
threads).

``tuned`` runs Recostack's hyperparameter search on the split's training
events only (its validation split is carved from them), trains the best
candidate on all of them, and answers for the test users: the held-out test
is never seen by the search.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

K = 10
IMPLICIT_MODELS = {
    "implicit BM25Recommender K=100 K1=1.2 B=0.75": ("bm25", {"K": 100, "K1": 1.2, "B": 0.75}),
    "implicit AlternatingLeastSquares f=64 reg=0.05 it=15": (
        "als",
        {"factors": 64, "regularization": 0.05, "iterations": 15},
    ),
}


def ratings_matrix(split: Any) -> sp.csr_matrix:
    """Users × items training ratings (repeated pairs summed), float32."""
    inter = split.inter
    m = sp.csr_matrix(
        (
            inter.weight.astype(np.float32),
            (inter.user_index.astype(np.int64), inter.item_index.astype(np.int64)),
        ),
        shape=(inter.n_users, inter.n_items),
    )
    m.sum_duplicates()
    return m


def run_implicit(split: Any, kind: str, options: dict[str, Any]) -> tuple[np.ndarray, dict]:
    import implicit
    from threadpoolctl import threadpool_limits

    user_items = ratings_matrix(split)
    started = time.perf_counter()
    if kind == "bm25":
        from implicit.nearest_neighbours import BM25Recommender

        model = BM25Recommender(**options)
        model.fit(user_items, show_progress=False)
    else:
        from implicit.cpu.als import AlternatingLeastSquares

        with threadpool_limits(1, "blas"):  # implicit checks it when the model is made
            model = AlternatingLeastSquares(**options, random_state=42)
            model.fit(user_items, show_progress=False)
    seconds = time.perf_counter() - started
    rows = split.test_rows
    ids, scores = model.recommend(rows, user_items[rows], N=K, filter_already_liked_items=True)
    recs = np.asarray(ids, dtype=np.int64)
    recs[~np.isfinite(scores) | (np.asarray(ids) < 0)] = -1
    return recs, {
        "fit_seconds": seconds,
        "test_users": int(split.test_users.size),
        "version": implicit.__version__,
    }


def usage_of(split: Any) -> Any:
    """The split's training events as Recostack's parsed usage (same indices)."""
    from recostack.data.ids import Vocabulary
    from recostack.data.usage import UsageData

    inter = split.inter
    return UsageData(
        users=Vocabulary([str(u) for u in split.users]),
        items=Vocabulary([str(i) for i in split.items]),
        user_index=inter.user_index.astype(np.int32),
        item_index=inter.item_index.astype(np.int32),
        timestamp=inter.timestamp.astype(np.int64),
        weight=inter.weight.astype(np.float32),
    )


def tuned(
    split: Any, *, trials: int, validation: str, seed: int = 42
) -> tuple[np.ndarray, dict[str, Any]]:
    """``recostack tune`` (sar, itemknn, ease; nDCG@10) on the training events, then the best."""
    from recostack.training.fitting import fit_model
    from recostack.training.parameters import HyperparameterSearch, parse_training_parameters
    from recostack.training.tuning import search_parameters

    usage = usage_of(split)
    base = parse_training_parameters({"usageRelativePath": "train"})
    search = HyperparameterSearch(
        trials=trials, validation=validation, seed=seed, metric=f"ndcg@{K}"
    )
    started = time.perf_counter()
    result = search_parameters(base, usage, search)
    search_seconds = time.perf_counter() - started
    best = result.best
    assert best is not None, "every trial failed"
    started = time.perf_counter()
    fitted = fit_model(result.best_parameters(base), usage)
    fit_seconds = time.perf_counter() - started
    model = fitted.model
    recs = model.item_item.recommend_batch(
        fitted.train_history[split.test_rows],
        K,
        exclude_seen=not model.options.allow_seed_items,
        backfill=model.options.enable_backfilling,
    )
    by_algorithm: dict[str, float] = {}
    for t in result.trials:
        if t.value is not None:
            by_algorithm[t.algorithm] = max(by_algorithm.get(t.algorithm, 0.0), t.value)
    return recs, {
        "fit_seconds": fit_seconds,
        "search_seconds": search_seconds,
        "test_users": int(split.test_users.size),
        "validation": validation,
        "trials": len(result.trials),
        "failed_trials": sum(t.failed for t in result.trials),
        "best_trial": best.number,
        "best_parameters": best.parameters,
        "best_validation_ndcg": best.value,
        "best_validation_ndcg_by_algorithm": by_algorithm,
    }
