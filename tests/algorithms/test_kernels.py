"""The compiled personalized-scoring kernel against the plain numpy formulation."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.algorithms.item_item import ItemItemModel


def _numpy_best_of(
    model: ItemItemModel,
    items: np.ndarray,
    weights: np.ndarray,
    k: int,
    exclude: np.ndarray,
    allowed: np.ndarray | None,
) -> tuple[list[int], list[float]]:
    """Σ w·row in float32 products / float64 sums, positive, ranked by (-score, item)."""
    sums = np.zeros(model.n_items, dtype=np.float64)
    for item, w in zip(items.tolist(), weights.tolist(), strict=True):
        start, end = model.indptr[item], model.indptr[item + 1]
        products = model.data[start:end] * np.float32(w)
        for j, v in zip(model.indices[start:end].tolist(), products.tolist(), strict=True):
            sums[j] += v
    scores = sums.astype(np.float32)
    keep = scores > 0
    keep[exclude] = False
    if allowed is not None:
        keep &= allowed
    candidates = np.flatnonzero(keep)
    order = np.lexsort((candidates, -scores[candidates]))[:k]
    return candidates[order].tolist(), scores[candidates[order]].tolist()


@settings(max_examples=150, deadline=None)
@given(
    n_items=st.integers(2, 40),
    density=st.floats(0.05, 0.9),
    seed=st.integers(0, 2**31 - 1),
    k=st.integers(1, 50),
    history=st.integers(1, 12),
    filtered=st.booleans(),
    ties=st.booleans(),
)
def test_kernel_matches_numpy(
    n_items: int,
    density: float,
    seed: int,
    k: int,
    history: int,
    filtered: bool,
    ties: bool,
) -> None:
    rng = np.random.default_rng(seed)
    sim = sp.random(n_items, n_items, density=density, random_state=rng, format="csr")
    if ties:  # few distinct values: many equal sums, so the tie-break is tested
        sim.data = np.round(sim.data * 3) / 3 + 1 / 3
    model = ItemItemModel.from_similarity(sim, rng.integers(0, 9, n_items).astype(np.float32))
    items = rng.integers(0, n_items, history)  # repeats allowed: rows add up
    weights = rng.choice([0.5, 1.0, 2.0], history).astype(np.float32)
    exclude = rng.integers(0, n_items, rng.integers(0, 4))
    allowed = rng.random(n_items) < 0.6 if filtered else None
    found = model.best_of_history(items, weights, k, exclude=exclude, allowed=allowed)
    want_items, want_scores = _numpy_best_of(model, items, weights, k, exclude, allowed)
    assert found.items.tolist() == want_items
    assert found.scores.tolist() == want_scores
    assert found.items.dtype == np.int64 and found.scores.dtype == np.float32


def test_scores_by_hand() -> None:
    # rows: 0 -> {1: 0.5, 2: 0.25}; 1 -> {2: 1.0, 3: 0.5}; items 2 and 3 tie below
    sim = sp.csr_matrix(
        np.array(
            [[0, 0.5, 0.25, 0], [0, 0, 1.0, 0.5], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32
        )
    )
    model = ItemItemModel.from_similarity(sim, np.ones(4, dtype=np.float32))
    top = model.best_of_history(np.array([0, 1]), np.array([2.0, 0.5], dtype=np.float32), 3)
    # 1: 2*0.5 = 1.0 ; 2: 2*0.25 + 0.5*1.0 = 1.0 ; 3: 0.5*0.5 = 0.25 — 1 and 2 tie: 1 first
    assert top.items.tolist() == [1, 2, 3]
    assert top.scores.tolist() == [1.0, 1.0, 0.25]
