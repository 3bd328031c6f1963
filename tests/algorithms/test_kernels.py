"""The compiled scoring kernels against the plain numpy formulations, and by hand."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numba.core.dispatcher import Dispatcher

import recostack
from recostack.algorithms import kernels
from recostack.algorithms.item_item import ItemItemModel, ScoredItems, sorted_rows
from recostack.algorithms.kernels import head_of_row, is_allowed, pack_mask
from recostack.algorithms.numba_cache import kernel_sources
from recostack.rules import diversity_kernel


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


def _numpy_backfill(
    model: ItemItemModel,
    head_items: list[int],
    head_scores: list[float],
    k: int,
    exclude: np.ndarray,
    allowed: np.ndarray | None,
) -> tuple[list[int], list[float]]:
    """Popular items not in the head, not excluded, allowed; scored as the docstring says."""
    order = model.popular_order
    keep = ~np.isin(order, np.concatenate([head_items, exclude]).astype(np.int64))
    if allowed is not None:
        keep &= allowed[order]
    extra = order[keep][: max(k - len(head_items), 0)]
    base = np.float32(min(head_scores) * 0.5) if head_items else np.float32(1.0)
    scores = base * model.popularity[extra] / model.popularity[order[0]]
    return head_items + extra.tolist(), head_scores + scores.astype(np.float32).tolist()


def test_backfill_by_hand() -> None:
    popularity = np.array([5, 1, 3, 0, 4], dtype=np.float32)  # item 3 was never used
    model = ItemItemModel.from_similarity(sp.csr_matrix((5, 5), dtype=np.float32), popularity)
    assert model.popular_order.tolist() == [0, 4, 2, 1]
    head = ScoredItems(np.array([2]), np.array([0.8], dtype=np.float32))
    filled = model.backfill(head, 4, exclude=np.array([4]))
    # 2 is taken, 4 excluded, 3 has no popularity: 0 then 1, at 0.4 * pop / 5
    assert filled.items.tolist() == [2, 0, 1]
    assert filled.scores.tolist() == [np.float32(0.8), np.float32(0.4), np.float32(0.08)]
    allowed = np.array([False, True, True, True, True])
    assert model.backfill(ScoredItems.empty(), 2, allowed=allowed).items.tolist() == [4, 2]
    assert model.backfill(ScoredItems.empty(), 2, allowed=allowed).scores.tolist() == [
        np.float32(0.8),
        np.float32(0.6),
    ]
    assert model.backfill(head, 1) is head  # long enough already


@settings(max_examples=150, deadline=None)
@given(
    n_items=st.integers(1, 40),
    seed=st.integers(0, 2**31 - 1),
    k=st.integers(1, 45),
    n_head=st.integers(0, 10),
    filtered=st.booleans(),
)
def test_backfill_matches_numpy(
    n_items: int, seed: int, k: int, n_head: int, filtered: bool
) -> None:
    rng = np.random.default_rng(seed)
    popularity = rng.integers(0, 6, n_items).astype(np.float32)  # ties and unused items
    model = ItemItemModel.from_similarity(
        sp.csr_matrix((n_items, n_items), dtype=np.float32), popularity
    )
    head_items = rng.choice(n_items, min(n_head, n_items), replace=False).tolist()
    head_scores = sorted(rng.random(len(head_items)).astype(np.float32).tolist(), reverse=True)
    exclude = rng.integers(0, n_items, rng.integers(0, 5))
    allowed = rng.random(n_items) < 0.6 if filtered else None
    head = ScoredItems(np.array(head_items, dtype=np.int64), np.array(head_scores, np.float32))
    filled = model.backfill(head, k, exclude=exclude, allowed=allowed)
    if len(head_items) >= k or not model.popular_order.size:
        want_items, want_scores = head_items, head_scores
    else:
        want_items, want_scores = _numpy_backfill(
            model, head_items, head_scores, k, exclude, allowed
        )
    assert filled.items.tolist() == want_items
    assert filled.scores.tolist() == want_scores


def test_packed_masks_by_hand() -> None:
    mask = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1], dtype=bool)
    packed = pack_mask(mask)
    assert packed.tolist() == [0b00001001, 0b00000110]  # item i is bit i % 8 of byte i // 8
    assert [is_allowed(packed, i) for i in range(11)] == mask.tolist()
    assert [is_allowed(mask, i) for i in range(11)] == mask.tolist()


@settings(max_examples=50, deadline=None)
@given(n_items=st.integers(1, 40), seed=st.integers(0, 2**32 - 1), k=st.integers(0, 12))
def test_a_packed_mask_filters_as_the_boolean_one(n_items: int, seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    sim = sp.random(n_items, n_items, density=0.5, random_state=rng, format="csr")
    model = ItemItemModel.from_similarity(
        sorted_rows(sim.astype(np.float32)), rng.random(n_items).astype(np.float32)
    )
    mask = rng.random(n_items) < 0.5
    for row in range(n_items):
        plain = head_of_row(model.indptr, model.indices, model.data, row, k, allowed=mask)
        bits = head_of_row(model.indptr, model.indices, model.data, row, k, allowed=pack_mask(mask))
        assert [a.tolist() for a in plain] == [b.tolist() for b in bits]
    history = rng.integers(0, n_items, 3)
    weights = np.ones(3, dtype=np.float32)
    best = [model.best_of_history(history, weights, k, allowed=m) for m in (mask, pack_mask(mask))]
    assert best[0].items.tolist() == best[1].items.tolist()
    assert best[0].scores.tolist() == best[1].scores.tolist()
    filled = [
        model.backfill(ScoredItems.empty(), k, allowed=given) for given in (mask, pack_mask(mask))
    ]
    plain, bits = [(f.items.tolist(), f.scores.tolist()) for f in filled]
    assert plain == bits


def test_kernel_modules_share_only_public_entry_points() -> None:
    """Across modules a kernel is reached by a public name its module lists in ``__all__``."""
    package_dir = Path(recostack.__file__).parent
    for path in kernel_sources(package_dir):
        tree = ast.parse(path.read_bytes())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("recostack"):
                for alias in node.names:
                    assert not alias.name.startswith("_"), (path.name, node.module, alias.name)
                    source = importlib.import_module(node.module or "")
                    if hasattr(source, "__all__"):
                        assert alias.name in source.__all__, (path.name, node.module, alias.name)
    for module in (kernels, diversity_kernel):
        for name in module.__all__:
            assert getattr(module, name).__doc__, (module.__name__, name)
        public = {
            name
            for name, value in vars(module).items()
            if isinstance(value, Dispatcher) and not name.startswith("_")
        }
        assert public <= set(module.__all__), module.__name__
