"""ItemItemModel: top-k, exclusions, rule masks, backfilling, batch scoring."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recostack.algorithms.item_item import ItemItemModel, ScoredItems, sorted_rows

# 5 items; item 0 is similar to 1 (0.9), 2 (0.5), 3 (0.1); popularity 4 > 3 > 0 > 1 > 2
SIM = np.array(
    [
        [1.0, 0.9, 0.5, 0.1, 0.0],
        [0.9, 1.0, 0.2, 0.0, 0.0],
        [0.5, 0.2, 1.0, 0.0, 0.0],
        [0.1, 0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
    ],
    dtype=np.float32,
)
POP = np.array([30, 20, 10, 40, 50], dtype=np.float32)


@pytest.fixture
def model() -> ItemItemModel:
    return ItemItemModel.from_similarity(sp.csr_matrix(SIM), POP)


def test_sorted_rows_orders_by_weight_and_prunes() -> None:
    rows = sorted_rows(sp.csr_matrix(SIM), 2)
    assert rows.indices[rows.indptr[0] : rows.indptr[1]].tolist() == [0, 1]
    assert np.diff(rows.indptr).tolist() == [2, 2, 2, 2, 0]


def test_sorted_rows_lists_negative_weights_last() -> None:
    m = sp.csr_matrix(np.array([[-0.5, 2.0, 0.0, -3.0, 0.25], [0.0, -1.0, -0.1, 0.0, 0.0]]))
    rows = sorted_rows(m)
    assert rows.indices[:4].tolist() == [1, 4, 0, 3]
    assert rows.data[:4].tolist() == [2.0, 0.25, -0.5, -3.0]
    assert rows.indices[4:].tolist() == [2, 1]
    pruned = sorted_rows(m, 2)
    assert pruned.indices.tolist() == [1, 4, 2, 1]
    assert np.diff(pruned.indptr).tolist() == [2, 2]


def test_negative_weights_lower_a_personalized_score() -> None:
    # item 0 -> 2: +1.0; item 1 -> 2: -0.8, item 1 -> 3: +0.5
    m = sp.csr_matrix(np.array([[0, 0, 1.0, 0], [0, 0, -0.8, 0.5], [0] * 4, [0] * 4]))
    model = ItemItemModel.from_similarity(m, np.ones(4, dtype=np.float32))
    both = model.best_of_history(np.array([0, 1]), np.ones(2, dtype=np.float32), 2)
    assert both.items.tolist() == [3, 2]
    assert both.scores.tolist() == pytest.approx([0.5, 0.2])
    assert model.head_of_row(1, 5).items.tolist() == [3]  # only positive weights answer


def test_neighbours_best_first(model: ItemItemModel) -> None:
    row = model.neighbours(0)
    assert row.items.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(row.scores, [1.0, 0.9, 0.5, 0.1])


def test_top_k_excludes_and_filters(model: ItemItemModel) -> None:
    row = model.neighbours(0)
    top = model.top_k(row, 2, exclude=np.array([0]), presorted=True)
    assert top.items.tolist() == [1, 2]
    allowed = np.array([True, False, True, True, True])
    top = model.top_k(row, 2, exclude=np.array([0]), allowed=allowed, presorted=True)
    assert top.items.tolist() == [2, 3]


def test_backfill_with_popular_items_in_order(model: ItemItemModel) -> None:
    row = model.neighbours(3)  # 3 -> {3: 1.0, 0: 0.1}
    top = model.top_k(row, 4, exclude=np.array([3]), backfill=True, presorted=True)
    # 0 from similarity, then the most popular not yet taken: 4 (50), 1 (20)
    assert top.items.tolist() == [0, 4, 1, 2]
    # backfilled scores: half the last real score times popularity / max popularity
    assert top.scores[1] == pytest.approx(0.1 * 0.5 * 50 / 50)
    assert top.scores[2] == pytest.approx(0.1 * 0.5 * 20 / 50)
    assert np.all(np.diff(top.scores) <= 0)


def test_backfill_respects_the_mask(model: ItemItemModel) -> None:
    allowed = np.array([True, True, True, True, False])
    top = model.top_k(ScoredItems.empty(), 3, allowed=allowed, backfill=True)
    assert top.items.tolist() == [3, 0, 1]
    assert top.scores[0] == pytest.approx(1.0 * 40 / 50)


def test_best_of_history_sums_weighted_rows(model: ItemItemModel) -> None:
    cand = model.best_of_history(np.array([1, 2]), np.array([2.0, 1.0], dtype=np.float32), 5)
    # item 0: 2*0.9 + 1*0.5 = 2.3 ; item 1: 2*1.0 + 0.2 = 2.2 ; item 2: 2*0.2 + 1 = 1.4
    assert cand.items.tolist() == [0, 1, 2]
    np.testing.assert_allclose(cand.scores, [2.3, 2.2, 1.4], rtol=1e-6)


def test_best_of_history_cuts_excludes_and_filters(model: ItemItemModel) -> None:
    items, weights = np.array([1, 2]), np.array([2.0, 1.0], dtype=np.float32)
    assert model.best_of_history(items, weights, 2).items.tolist() == [0, 1]
    assert model.best_of_history(items, weights, 5, exclude=items).items.tolist() == [0]
    allowed = np.array([False, True, True, True, True])
    assert model.best_of_history(items, weights, 5, allowed=allowed).items.tolist() == [1, 2]
    # the scratch vectors are left clean: the same call gives the same answer
    again = model.best_of_history(items, weights, 5)
    assert again.items.tolist() == [0, 1, 2]
    assert model.best_of_history(np.array([4]), np.ones(1, dtype=np.float32), 3).items.size == 0


def test_recommend_batch_matches_single_scoring(model: ItemItemModel) -> None:
    histories = sp.csr_matrix(np.array([[0, 1, 1, 0, 0], [1, 0, 0, 0, 0]], dtype=np.float32))
    recs = model.recommend_batch(histories, 3)
    # user 0 saw 1 and 2: only item 0 scores (0.9 + 0.5); user 1 saw 0: 1, 2, 3
    assert recs[0].tolist() == [0, -1, -1]
    assert recs[1].tolist() == [1, 2, 3]
    filled = model.recommend_batch(histories, 3, backfill=True)
    # the most popular unseen items fill the gap: 4 (50), then 3 (40)
    assert filled[0].tolist() == [0, 4, 3]


def test_save_load_round_trip(tmp_path, model: ItemItemModel) -> None:  # type: ignore[no-untyped-def]
    model.save(tmp_path)
    loaded = ItemItemModel.load(tmp_path)
    np.testing.assert_array_equal(loaded.to_csr().toarray(), model.to_csr().toarray())
    np.testing.assert_array_equal(loaded.popular_order, model.popular_order)
