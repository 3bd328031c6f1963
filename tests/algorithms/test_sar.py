"""SAR against numbers worked out by hand on a three-user example.

users  items used
u0     A B
u1     A B C
u2     B C

Co-occurrence (users who used both):      Jaccard C_ij / (C_ii + C_jj - C_ij):
      A  B  C                                   A    B    C
  A   2  2  1                              A   1   2/3  1/3
  B   2  3  2                              B  2/3   1   2/3
  C   1  2  2                              C  1/3  2/3   1

Lift C_ij / (C_ii C_jj): A-B 2/6, A-C 1/4, B-C 2/6, diagonal 2/4, 3/9, 2/4.
"""

from __future__ import annotations

import numpy as np
import pytest

from recostack.algorithms.interactions import SECONDS_PER_DAY, Interactions
from recostack.algorithms.sar import SAR, SARConfig

A, B, C, D = 0, 1, 2, 3
T0 = 1_700_000_000


def example(
    timestamps: list[int] | None = None, weights: list[float] | None = None
) -> Interactions:
    users = np.array([0, 0, 1, 1, 1, 2, 2])
    items = np.array([A, B, A, B, C, B, C])
    ts = np.array(timestamps or [T0] * 7, dtype=np.int64)
    w = np.array(weights or [1.0] * 7, dtype=np.float32)
    return Interactions(3, 4, users, items, ts, w)


def dense(model: SAR) -> np.ndarray:
    assert model.item_item is not None
    return model.item_item.to_csr().toarray()


def test_cooccurrence_counts() -> None:
    m = SAR(SARConfig(support_threshold=1, similarity_function="Cooccurrence")).fit(example())
    expected = np.array([[2, 2, 1, 0], [2, 3, 2, 0], [1, 2, 2, 0], [0, 0, 0, 0]], dtype=float)
    np.testing.assert_allclose(dense(m), expected)


def test_jaccard_by_hand() -> None:
    m = SAR(SARConfig(support_threshold=1, similarity_function="Jaccard")).fit(example())
    s = dense(m)
    assert s[A, B] == pytest.approx(2 / 3)
    assert s[A, C] == pytest.approx(1 / 3)
    assert s[B, C] == pytest.approx(2 / 3)
    np.testing.assert_allclose(np.diag(s)[:3], 1.0)
    assert not s[D].any() and not s[:, D].any()


def test_lift_by_hand() -> None:
    m = SAR(SARConfig(support_threshold=1, similarity_function="Lift")).fit(example())
    s = dense(m)
    assert s[A, B] == pytest.approx(2 / 6)
    assert s[A, C] == pytest.approx(1 / 4)
    assert s[B, C] == pytest.approx(2 / 6)
    np.testing.assert_allclose(np.diag(s)[:3], [2 / 4, 3 / 9, 2 / 4], rtol=1e-6)


def test_support_threshold_drops_rare_pairs() -> None:
    # threshold 2 drops A-C (seen together once); the rest stays
    m = SAR(SARConfig(support_threshold=2, similarity_function="Cooccurrence")).fit(example())
    s = dense(m)
    assert s[A, C] == 0 and s[C, A] == 0
    assert s[A, B] == 2 and s[B, C] == 2
    # threshold 3 keeps only B's own count
    m3 = SAR(SARConfig(support_threshold=3, similarity_function="Cooccurrence")).fit(example())
    assert dense(m3)[B, B] == 3 and dense(m3).sum() == 3


def test_timestamp_unit_counts_baskets() -> None:
    # u1 bought A and B together at T0, C a day later: baskets {A,B} {C}
    ts = [T0, T0, T0, T0, T0 + 86_400, T0, T0]
    m = SAR(
        SARConfig(
            support_threshold=1, cooccurrence_unit="Timestamp", similarity_function="Cooccurrence"
        )
    ).fit(example(timestamps=ts))
    s = dense(m)
    assert s[A, B] == 2  # u0 and u1's first basket
    assert s[B, C] == 1  # only u2 (u1's C is in another basket)
    assert s[A, C] == 0


def test_user_affinity_weights_and_half_life() -> None:
    # u0: A purchased (4) now, B clicked (1) 30 days earlier -> 4 and 1/2
    ts = [T0, T0 - int(30 * SECONDS_PER_DAY), T0, T0, T0, T0, T0]
    w = [4.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    m = SAR(SARConfig(support_threshold=1, enable_user_affinity=True, half_life_days=30)).fit(
        example(timestamps=ts, weights=w)
    )
    assert m.user_affinity is not None
    row = m.user_affinity.toarray()[0]
    np.testing.assert_allclose(row[:2], [4.0, 0.5], rtol=1e-6)
    # without affinity every used item counts 1
    m2 = SAR(SARConfig(support_threshold=1)).fit(example(timestamps=ts, weights=w))
    assert m2.user_affinity is not None
    np.testing.assert_allclose(m2.user_affinity.toarray()[0], [1, 1, 0, 0])


def test_personalized_scores_by_hand() -> None:
    m = SAR(SARConfig(support_threshold=1)).fit(example())
    assert m.item_item is not None
    # u0 used A and B: C scores S_AC + S_BC = 1/3 + 2/3 = 1
    top = m.item_item.best_of_history(
        np.array([A, B]), np.array([1.0, 1.0], dtype=np.float32), 3, exclude=np.array([A, B])
    )
    assert top.items.tolist() == [C]
    assert top.scores[0] == pytest.approx(1.0)


def test_rows_are_sorted_and_pruned() -> None:
    m = SAR(SARConfig(support_threshold=1, max_neighbors=2)).fit(example())
    assert m.item_item is not None
    row = m.item_item.neighbours(B)
    assert len(row) == 2
    assert row.scores.tolist() == sorted(row.scores.tolist(), reverse=True)
    assert row.items[0] == B  # self-similarity 1 first


def test_blocks_and_threads_do_not_change_the_result(rng: np.random.Generator) -> None:
    n_users, n_items, n = 300, 120, 4000
    inter = Interactions(
        n_users,
        n_items,
        rng.integers(0, n_users, n),
        np.minimum(rng.zipf(1.3, n) - 1, n_items - 1),
        np.full(n, T0),
        np.ones(n, dtype=np.float32),
    )
    one = SAR(SARConfig(support_threshold=2, threads=1, block_flops=10**12)).fit(inter)
    many = SAR(SARConfig(support_threshold=2, threads=2, block_flops=500)).fit(inter)
    np.testing.assert_allclose(dense(one), dense(many), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"support_threshold": 0},
        {"cooccurrence_unit": "Session"},
        {"similarity_function": "Cosine"},
        {"half_life_days": 0},
        {"max_neighbors": -1},
    ],
)
def test_config_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SARConfig(**kwargs)  # type: ignore[arg-type]
