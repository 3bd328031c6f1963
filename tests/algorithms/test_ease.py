"""EASE: the closed form by hand, negative weights, pruning, the item limit, memory."""

from __future__ import annotations

import numpy as np
import pytest

from recostack.algorithms.ease import EASE, EASEConfig, dense_bytes, fit_bytes
from recostack.algorithms.interactions import Interactions
from recostack.errors import TrainingFailed

# 4 users x 3 items; item 2 is used by one user only
X = np.array(
    [
        [1, 1, 0],
        [1, 0, 1],
        [0, 1, 0],
        [1, 1, 0],
    ],
    dtype=np.float64,
)


def interactions(x: np.ndarray, weights: np.ndarray | None = None) -> Interactions:
    users, items = np.nonzero(x)
    w = np.ones(users.size) if weights is None else weights[users, items]
    return Interactions(
        x.shape[0],
        x.shape[1],
        users.astype(np.int32),
        items.astype(np.int32),
        np.zeros(users.size, dtype=np.int64),
        w.astype(np.float32),
    )


def dense(model: EASE) -> np.ndarray:
    assert model.item_item is not None
    return model.item_item.to_csr().toarray()


def closed_form(x: np.ndarray, l2: float) -> np.ndarray:
    """B = I - P diag(1/diag(P)), P = (XᵀX + λI)⁻¹, computed independently."""
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    return np.eye(x.shape[1]) - p / np.diag(p)[np.newaxis, :]


def test_weights_by_hand() -> None:
    # XᵀX = [[3, 2, 1], [2, 3, 0], [1, 0, 1]]; with λ = 1 the diagonal is 4, 4, 2.
    # det(G) = 4(8 - 0) - 2(4 - 0) + 1(0 - 4) = 20; adj(G) row by row:
    # [8, -4, -4], [-4, 7, 2], [-4, 2, 12]  (G symmetric, so P = adj / 20)
    p = np.array([[8, -4, -4], [-4, 7, 2], [-4, 2, 12]]) / 20.0
    assert np.allclose(p, np.linalg.inv(X.T @ X + np.eye(3)))
    expected = np.array(
        [
            [0.0, 4 / 7, 4 / 12],  # -P[0, j] / P[j, j]
            [4 / 8, 0.0, -2 / 12],
            [4 / 8, -2 / 7, 0.0],
        ]
    )
    got = dense(EASE(EASEConfig(l2=1.0)).fit(interactions(X)))
    assert np.allclose(got, expected, atol=1e-6)
    assert got[1, 2] < 0  # negative weights are kept


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_numpy_on_random_data(rng: np.random.Generator, dtype: str) -> None:
    x = (rng.random((60, 25)) < 0.2).astype(np.float64)
    x[:, 7] = 0  # an unused item keeps an empty row
    got = dense(EASE(EASEConfig(l2=3.0, dtype=dtype, block_rows=4)).fit(interactions(x)))
    used = np.flatnonzero(x.sum(axis=0) > 0)
    expected = np.zeros((25, 25))
    expected[np.ix_(used, used)] = closed_form(x[:, used], 3.0)
    np.fill_diagonal(expected, 0.0)
    assert np.allclose(got, expected, atol=1e-4 if dtype == "float32" else 1e-6)
    assert not got[7].any()


def test_rows_are_sorted_by_signed_weight(rng: np.random.Generator) -> None:
    x = (rng.random((50, 12)) < 0.3).astype(np.float64)
    model = EASE(EASEConfig(l2=2.0)).fit(interactions(x))
    assert model.item_item is not None
    for item in range(12):
        row = model.item_item.neighbours(item)
        assert np.all(np.diff(row.scores) <= 0)
        assert item not in row.items.tolist()
    assert (model.item_item.data < 0).any()


def test_personalized_scores_are_x_times_b(rng: np.random.Generator) -> None:
    x = (rng.random((40, 15)) < 0.25).astype(np.float64)
    model = EASE(EASEConfig(l2=5.0)).fit(interactions(x))
    assert model.item_item is not None
    b = closed_form(x, 5.0)
    np.fill_diagonal(b, 0)
    history = np.flatnonzero(x[0])
    scores = x[0] @ b
    scores[history] = -np.inf
    top = model.item_item.best_of_history(
        history.astype(np.int64),
        np.ones(history.size, dtype=np.float32),
        3,
        exclude=history.astype(np.int64),
    )
    positive = np.argsort(-scores, kind="stable")[:3]
    positive = positive[scores[positive] > 0]
    assert top.items.tolist() == positive.tolist()
    assert np.allclose(top.scores, scores[positive], atol=1e-5)


def test_pruning_keeps_the_largest_magnitudes_and_reports_the_share(
    rng: np.random.Generator,
) -> None:
    x = (rng.random((80, 20)) < 0.3).astype(np.float64)
    full = dense(EASE(EASEConfig(l2=2.0)).fit(interactions(x)))
    model = EASE(EASEConfig(l2=2.0, neighbors=4)).fit(interactions(x))
    pruned = dense(model)
    for item in range(20):
        kept = np.flatnonzero(pruned[item])
        assert kept.size == 4
        assert np.allclose(pruned[item, kept], full[item, kept], atol=1e-6)
        threshold = np.sort(np.abs(full[item]))[-4]
        assert np.all(np.abs(full[item, kept]) >= threshold - 1e-6)
    share = np.abs(pruned).sum() / np.abs(full).sum()
    assert model.weight_share_kept == pytest.approx(share, rel=1e-4)
    assert 0 < model.weight_share_kept < 1


def test_only_the_most_popular_items_are_modelled() -> None:
    x = np.array(
        [
            [1, 1, 1, 0],
            [1, 1, 0, 0],
            [1, 0, 0, 1],
            [1, 1, 0, 0],
        ],
        dtype=np.float64,
    )  # popularity 4, 3, 1, 1: with two items, items 0 and 1
    model = EASE(EASEConfig(l2=1.0, max_items=2)).fit(interactions(x))
    assert model.modelled_items.tolist() == [0, 1]
    got = dense(model)
    expected = closed_form(x[:, :2], 1.0)
    assert np.allclose(got[:2, :2], expected - np.diag(np.diag(expected)), atol=1e-6)
    assert not got[2:].any() and not got[:, 2:].any()
    assert model.item_item is not None
    assert model.item_item.popularity.tolist() == [4, 3, 1, 1]  # backfilling knows every item


def test_weighted_interactions_use_summed_event_weights() -> None:
    ratings = np.array([[5, 1, 0], [4, 0, 2], [0, 3, 0], [1, 5, 0]], dtype=np.float64)
    model = EASE(EASEConfig(l2=10.0, weighted=True)).fit(interactions(ratings > 0, ratings))
    expected = closed_form(ratings, 10.0)
    np.fill_diagonal(expected, 0)
    assert np.allclose(dense(model), expected, atol=1e-6)
    assert model.user_affinity is not None
    assert model.user_affinity.toarray().tolist() == ratings.tolist()


def test_too_large_for_the_memory_fails_naming_max_items() -> None:
    assert fit_bytes(3) == dense_bytes(3) + 3 * 2 * 8  # the matrix, then 2 weights per row
    limit = fit_bytes(2)  # room for 2 items, 3 are used
    with pytest.raises(TrainingFailed, match=r"easeMaxItems\) to at most 2") as caught:
        EASE(EASEConfig(memory_limit=limit)).fit(interactions(X))
    assert caught.value.field == "easeMaxItems"
    EASE(EASEConfig(memory_limit=limit, max_items=2)).fit(interactions(X))  # the way out


def test_no_usage_gives_an_empty_model() -> None:
    model = EASE().fit(interactions(np.zeros((2, 3))))
    assert model.item_item is not None and model.item_item.nnz == 0


def test_a_single_used_item_has_no_weights() -> None:
    x = np.array([[1, 0], [1, 0]], dtype=np.float64)
    model = EASE().fit(interactions(x))
    assert model.item_item is not None and model.item_item.nnz == 0
    assert model.item_item.popularity.tolist() == [2, 0]


@pytest.mark.parametrize(
    "kwargs",
    [{"l2": 0.0}, {"max_items": 0}, {"neighbors": -1}, {"dtype": "float16"}, {"block_rows": 0}],
)
def test_config_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        EASEConfig(**kwargs)  # type: ignore[arg-type]
