"""The two greedy implementations of reranking (Python lists, numpy) pick the same items."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.rules import ItemProperties, rerank
from recostack.rules import reranking as reranking_module


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 60),
    weights=st.lists(st.sampled_from([0.25, 0.5, 1.0, 2.0, 0.3, 0.1]), min_size=1, max_size=3),
    best_first=st.booleans(),
    float32=st.booleans(),
    data=st.data(),
)
def test_small_and_large_pools_rerank_alike(
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
    in_python = rerank(np.arange(n), scores, rules, props, k=k)
    small = reranking_module._SMALL_POOL
    try:
        reranking_module._SMALL_POOL = 0
        vectorised = rerank(np.arange(n), scores, rules, props, k=k)
    finally:
        reranking_module._SMALL_POOL = small
    assert in_python[0].tolist() == vectorised[0].tolist()
    assert np.array_equal(in_python[1], vectorised[1], equal_nan=True)
    assert in_python[1].dtype == vectorised[1].dtype == scores.dtype


def test_a_large_pool_goes_through_numpy() -> None:
    rng = np.random.default_rng(5)
    n = reranking_module._SMALL_POOL + 40
    props = ItemProperties({"brand": rng.integers(0, 30, n).astype(str)})
    scores = rng.random(n)
    items, _ = rerank(np.arange(n), scores, ["brand:diversity:0.5"], props, k=20)
    brands = props["brand"][items]
    assert len(items) == 20 and len(set(brands[:5].tolist())) == 5
