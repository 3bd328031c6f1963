from __future__ import annotations

import numpy as np
import pytest

from recostack.evaluation import map as map_metrics

from ._cases import ONE_RECS, ONE_TRUTH, RECS, TRUTH, truth_matrix


def test_single_user_example() -> None:
    # relevant {1, 3}, recs [3, 2, 1]: hits at ranks 1 (P@1 = 1/1) and 3 (P@3 = 2/3)
    # AP = (1/1 + 2/3) / min(2, 3) = 5/6; legacy divides by |relevant| = 2 as well
    assert map_metrics.map_at_k(ONE_RECS, ONE_TRUTH, 3) == pytest.approx((1 + 2 / 3) / 2)
    assert map_metrics.map_legacy(ONE_RECS, ONE_TRUTH, 3) == pytest.approx((1 + 2 / 3) / 2)


def test_per_user_k4() -> None:
    # user 0: hits at ranks 1 (1/1) and 3 (2/3): sum 5/3; min(3, 4) = 3 = |relevant| -> 5/9
    # user 2: 0; user 3: hits at ranks 1 (1/1), 2 (2/2): sum 2; / 2 -> 1
    np.testing.assert_allclose(map_metrics.per_user_at_k(RECS, TRUTH, 4), [5 / 9, np.nan, 0, 1])
    np.testing.assert_allclose(map_metrics.per_user_legacy(RECS, TRUTH, 4), [5 / 9, np.nan, 0, 1])
    assert map_metrics.map_at_k(RECS, TRUTH, 4) == pytest.approx((5 / 9 + 0 + 1) / 3)


def test_at_k_and_legacy_differ_when_relevant_exceeds_k() -> None:
    # k = 2: user 0 [2, 5]: hit at rank 1 only -> sum 1
    #   MAP@k: 1 / min(3, 2) = 1/2; legacy: 1 / 3
    # user 3 [3, 1]: sum 1/1 + 2/2 = 2 -> 2 / min(2, 2) = 1 either way
    np.testing.assert_allclose(map_metrics.per_user_at_k(RECS, TRUTH, 2), [1 / 2, np.nan, 0, 1])
    np.testing.assert_allclose(map_metrics.per_user_legacy(RECS, TRUTH, 2), [1 / 3, np.nan, 0, 1])
    assert map_metrics.map_at_k(RECS, TRUTH, 2) == pytest.approx((1 / 2 + 0 + 1) / 3)
    assert map_metrics.map_legacy(RECS, TRUTH, 2) == pytest.approx((1 / 3 + 0 + 1) / 3)


def test_late_hits() -> None:
    truth = truth_matrix([{3, 4}], 5)
    # recs [0, 3, 1, 4]: hits at rank 2 (1/2) and rank 4 (2/4): sum 1 -> / 2
    assert map_metrics.map_at_k(np.array([[0, 3, 1, 4]]), truth, 4) == pytest.approx(0.5)


def test_module_contract_names() -> None:
    assert map_metrics.measure is map_metrics.map_at_k
    assert map_metrics.per_user is map_metrics.per_user_at_k


def test_zero_when_no_hits() -> None:
    truth = truth_matrix([{0}], 3)
    assert map_metrics.map_at_k(np.array([[1, 2]]), truth, 2) == 0.0
    assert map_metrics.map_legacy(np.array([[1, 2]]), truth, 2) == 0.0
