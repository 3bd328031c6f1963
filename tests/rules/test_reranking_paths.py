"""The compiled reranking picks exactly what the plain numpy greedy pass picks."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.rules import ItemProperties, rerank


def _numpy_rerank(
    scores: np.ndarray, codes: list[np.ndarray], empties: list[int], weights: list[float], k: int
) -> list[int]:
    """The module docstring's objective, one vectorised pass per pick."""
    values = scores.astype(np.float64)
    ranked = values > -np.inf
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    spread = high - low if high - low > 0 and math.isfinite(high - low) else 1.0
    relevance = (values - low) / spread
    relevance[~ranked] = -np.inf
    adjusted = relevance.copy()
    picks: list[int] = []
    for _ in range(k):
        pick = int(adjusted.argmax())
        best = adjusted[pick]
        if best == -np.inf:
            break
        if best != relevance[pick]:
            ties = (adjusted == best).nonzero()[0]
            pick = int(ties[np.argmin(relevance[ties])])
        picks.append(pick)
        adjusted[pick] = -np.inf
        for rule_codes, empty, weight in zip(codes, empties, weights, strict=True):
            if rule_codes[pick] != empty:
                adjusted[rule_codes == rule_codes[pick]] -= weight
    return picks + np.flatnonzero(~ranked)[: k - len(picks)].tolist()


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 60),
    weights=st.lists(st.sampled_from([0.25, 0.5, 1.0, 2.0, 0.3, 0.1]), min_size=1, max_size=3),
    best_first=st.booleans(),
    float32=st.booleans(),
    data=st.data(),
)
def test_the_kernel_reranks_like_numpy(
    n: int, weights: list[float], best_first: bool, float32: bool, data: st.DataObject
) -> None:
    score_st = st.one_of(
        st.sampled_from([0.0, 0.25, 0.5, 1.0, -np.inf, np.nan, np.inf]),
        st.floats(-10, 10),
        st.floats(0, 1e-15),
    )
    scores = np.array(data.draw(st.lists(score_st, min_size=n, max_size=n)))
    if best_first:  # a top-k list: sorted, best first, no NaN
        scores = -np.sort(-np.where(np.isnan(scores), -np.inf, scores))
    if float32:  # the model's scores: reranked on their exact values, returned as given
        scores = scores.astype(np.float32)
    props = ItemProperties(
        {
            f"p{r}": np.array(
                data.draw(st.lists(st.sampled_from(["", "a", "b", "c"]), min_size=n, max_size=n))
            )
            for r in range(len(weights))
        }
    )
    rules = [f"p{r}:diversity:{w}" for r, w in enumerate(weights)]
    k = data.draw(st.integers(0, n))
    items, returned = rerank(np.arange(n), scores, rules, props, k=k)
    columns = [props.column(f"p{r}") for r in range(len(weights))]
    expected = _numpy_rerank(
        scores, [c.codes for c in columns], [c.empty_code for c in columns], weights, k
    )
    assert items.tolist() == expected
    assert np.array_equal(returned, scores[expected], equal_nan=True)
    assert returned.dtype == scores.dtype


def test_a_large_pool_spreads_brands() -> None:
    rng = np.random.default_rng(5)
    n = 200
    props = ItemProperties({"brand": rng.integers(0, 30, n).astype(str)})
    scores = rng.random(n)
    items, _ = rerank(np.arange(n), scores, ["brand:diversity:0.5"], props, k=20)
    brands = props["brand"][items]
    assert len(items) == 20 and len(set(brands[:5].tolist())) == 5
