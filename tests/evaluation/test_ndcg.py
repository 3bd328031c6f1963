from __future__ import annotations

import math

import numpy as np
import pytest

from recostack.evaluation import ndcg

from ._cases import ONE_RECS, ONE_TRUTH, RECS, TRUTH, truth_matrix


def test_single_user_example() -> None:
    # relevant {1, 3}, recs [3, 2, 1]: hits at ranks 1 and 3
    # DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG (2 ones) = 1/log2(2) + 1/log2(3)
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg.measure(ONE_RECS, ONE_TRUTH, 3) == pytest.approx(expected)


def test_natural_log_gives_the_same_ratio() -> None:
    # recommenders' ndcg_at_k uses ln in DCG and IDCG; the base cancels
    expected_ln = (1 / math.log(2) + 1 / math.log(4)) / (1 / math.log(2) + 1 / math.log(3))
    assert ndcg.measure(ONE_RECS, ONE_TRUTH, 3) == pytest.approx(expected_ln)


def test_per_user_and_mean() -> None:
    values = ndcg.per_user(RECS, TRUTH, 4)
    # user 0: hits at ranks 1, 3 -> DCG = 1 + 1/log2(4) = 1.5;
    #         3 relevant -> IDCG = 1 + 1/log2(3) + 1/log2(4)
    user0 = 1.5 / (1 + 1 / math.log2(3) + 0.5)
    # user 2: no hit -> 0; user 3: hits at ranks 1, 2 with 2 relevant -> ideal -> 1
    np.testing.assert_allclose(values, [user0, np.nan, 0.0, 1.0])
    assert ndcg.measure(RECS, TRUTH, 4) == pytest.approx((user0 + 0 + 1) / 3)


def test_idcg_uses_min_relevant_k() -> None:
    truth = truth_matrix([{0, 1, 2, 3, 4}], 5)
    # 5 relevant, k = 2, recs [0, 1] both hits: DCG = IDCG(min(5, 2) = 2 ones) -> 1
    assert ndcg.measure(np.array([[0, 1]]), truth, 2) == pytest.approx(1.0)
    # recs [0, -1] with k = 2: DCG = 1; IDCG = 1 + 1/log2(3) (padding does not shrink IDCG)
    assert ndcg.measure(np.array([[0, -1]]), truth, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_hit_at_rank_two_only() -> None:
    truth = truth_matrix([{2}], 3)
    # DCG = 1/log2(3); IDCG = 1/log2(2) = 1
    assert ndcg.measure(np.array([[0, 2, 1]]), truth, 3) == pytest.approx(1 / math.log2(3))


def test_zero_when_no_hits() -> None:
    truth = truth_matrix([{0}, set()], 3)
    assert ndcg.measure(np.array([[1, 2], [0, 1]]), truth, 2) == 0.0
