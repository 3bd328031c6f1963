from __future__ import annotations

import numpy as np
import pytest

from recostack.evaluation import recall

from ._cases import ONE_RECS, ONE_TRUTH, RECS, TRUTH, truth_matrix


def test_single_user_example() -> None:
    # relevant {1, 3}, recs [3, 2, 1]: both found -> 2 / 2
    assert recall.measure(ONE_RECS, ONE_TRUTH, 3) == pytest.approx(1.0)
    # top 1 [3]: 1 of 2
    assert recall.measure(ONE_RECS, ONE_TRUTH, 1) == pytest.approx(1 / 2)


def test_per_user_and_mean() -> None:
    values = recall.per_user(RECS, TRUTH, 4)
    # user 0: 2 of {0, 2, 4}; user 1 skipped; user 2: 0 of {5}; user 3: 2 of {1, 3}
    np.testing.assert_allclose(values, [2 / 3, np.nan, 0.0, 1.0])
    assert recall.measure(RECS, TRUTH, 4) == pytest.approx((2 / 3 + 0 + 1) / 3)


def test_k_two() -> None:
    # user 0 [2, 5]: 1 of 3; user 2: 0; user 3 [3, 1]: 2 of 2
    assert recall.measure(RECS, TRUTH, 2) == pytest.approx((1 / 3 + 0 + 1) / 3)


def test_more_relevant_than_k_cannot_reach_one() -> None:
    truth = truth_matrix([{0, 1, 2, 3}], 4)
    # 2 found of 4 relevant
    assert recall.measure(np.array([[0, 1]]), truth, 2) == pytest.approx(0.5)


def test_repeated_item_counts_once() -> None:
    truth = truth_matrix([{1, 2}], 3)
    # [1, 1]: item 1 once -> 1 of 2, not 2 of 2
    assert recall.measure(np.array([[1, 1]]), truth, 2) == pytest.approx(0.5)


def test_no_hits_and_empty_truth() -> None:
    truth = truth_matrix([{0}, set()], 3)
    recs = np.array([[1, 2], [0, 1]])
    assert recall.measure(recs, truth, 2) == 0.0
    np.testing.assert_array_equal(np.isnan(recall.per_user(recs, truth, 2)), [False, True])
