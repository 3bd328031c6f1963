"""Hypothesis properties of the ranking metrics, checked against a plain-loop oracle."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.evaluation import (
    map_at_k_per_user,
    map_legacy_per_user,
    ndcg_per_user,
    precision_per_user,
    recall_per_user,
    stratified_split,
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, sp.csr_matrix, list[set[int]], int]:
    n_items = draw(st.integers(1, 12))
    n_users = draw(st.integers(1, 8))
    width = draw(st.integers(1, 6))
    item = st.integers(-1, n_items - 1)
    recs = np.array(
        draw(
            st.lists(
                st.lists(item, min_size=width, max_size=width), min_size=n_users, max_size=n_users
            )
        )
    )
    relevant = draw(
        st.lists(
            st.sets(st.integers(0, n_items - 1), max_size=n_items),
            min_size=n_users,
            max_size=n_users,
        )
    )
    rows = [u for u, items in enumerate(relevant) for _ in items]
    cols = [i for items in relevant for i in items]
    truth = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, n_items))
    k = draw(st.integers(1, 8))
    return recs, truth, relevant, k


def oracle(row: np.ndarray, relevant: set[int], k: int) -> dict[str, float]:
    """The textbook definitions, one user at a time; repeats count at their first rank."""
    seen: set[int] = set()
    hits = []
    for item in row[:k]:
        hit = item >= 0 and item in relevant and item not in seen
        seen.add(int(item))
        hits.append(hit)
    n_hits = sum(hits)
    dcg = sum(1 / math.log2(i + 2) for i, h in enumerate(hits) if h)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    precision_sum = sum(sum(hits[: i + 1]) / (i + 1) for i, h in enumerate(hits) if h)
    return {
        "precision": n_hits / k,
        "recall": n_hits / len(relevant),
        "ndcg": dcg / idcg,
        "map_at_k": precision_sum / min(len(relevant), k),
        "map_legacy": precision_sum / len(relevant),
    }


FUNCTIONS = {
    "precision": precision_per_user,
    "recall": recall_per_user,
    "ndcg": ndcg_per_user,
    "map_at_k": map_at_k_per_user,
    "map_legacy": map_legacy_per_user,
}


@settings(max_examples=300, deadline=None)
@given(cases())
def test_metrics_match_the_oracle_and_stay_in_bounds(
    case: tuple[np.ndarray, sp.csr_matrix, list[set[int]], int],
) -> None:
    recs, truth, relevant, k = case
    values = {name: f(recs, truth, k) for name, f in FUNCTIONS.items()}
    for u, rel in enumerate(relevant):
        if not rel:
            assert all(np.isnan(v[u]) for v in values.values())
            continue
        expected = oracle(recs[u], rel, k)
        for name, v in values.items():
            assert math.isclose(v[u], expected[name], rel_tol=1e-12, abs_tol=1e-12), name
            assert 0.0 <= v[u] <= 1.0 + 1e-12, name
        # precision@k * k is a hit count, at most min(k, |relevant|)
        assert values["precision"][u] * k <= min(k, len(rel)) + 1e-9
        assert values["map_legacy"][u] <= values["map_at_k"][u] + 1e-12


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=0, max_size=60),
    st.floats(0.05, 0.95),
    st.integers(0, 2**32 - 1),
)
def test_stratified_split_counts_per_user(users: list[int], ratio: float, seed: int) -> None:
    arr = np.array(users, dtype=np.int64)
    mask = stratified_split(arr, ratio, seed=seed)
    for u in set(users):
        n = users.count(u)
        expected = 1 if n == 1 else int(np.round(ratio * n))
        assert int(mask[arr == u].sum()) == expected
