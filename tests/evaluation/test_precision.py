from __future__ import annotations

import numpy as np
import pytest

from recostack.errors import Invalid
from recostack.evaluation import precision

from ._cases import ONE_RECS, ONE_TRUTH, RECS, TRUTH, truth_matrix


def test_single_user_example() -> None:
    # relevant {1, 3}, recs [3, 2, 1]: hits 3 and 1 -> 2 / 3
    assert precision.measure(ONE_RECS, ONE_TRUTH, 3) == pytest.approx(2 / 3)
    # top 1 is [3]: 1 hit / 1
    assert precision.measure(ONE_RECS, ONE_TRUTH, 1) == pytest.approx(1.0)
    # top 2 is [3, 2]: 1 hit / 2
    assert precision.measure(ONE_RECS, ONE_TRUTH, 2) == pytest.approx(1 / 2)


def test_per_user_skips_empty_truth_and_counts_padding_as_miss() -> None:
    values = precision.per_user(RECS, TRUTH, 4)
    # user 0: 2 hits / 4; user 1: skipped; user 2: 0 / 4; user 3: 2 hits / 4 (2 padded slots)
    np.testing.assert_allclose(values, [2 / 4, np.nan, 0.0, 2 / 4])
    # mean over the three evaluated users: (0.5 + 0 + 0.5) / 3
    assert precision.measure(RECS, TRUTH, 4) == pytest.approx(1 / 3)


def test_k_smaller_than_width() -> None:
    # top 2: user 0 [2, 5] -> 1/2; user 2 [1, -1] -> 0; user 3 [3, 1] -> 2/2
    assert precision.measure(RECS, TRUTH, 2) == pytest.approx((1 / 2 + 0 + 1) / 3)


def test_denominator_is_k_even_when_fewer_recommended() -> None:
    # recs have width 3 but k = 5: 2 hits / 5
    assert precision.measure(ONE_RECS, ONE_TRUTH, 5) == pytest.approx(2 / 5)


def test_repeated_item_counts_once() -> None:
    truth = truth_matrix([{1}], 3)
    # [1, 1, 1]: only the first 1 is a hit -> 1 / 3
    assert precision.measure(np.array([[1, 1, 1]]), truth, 3) == pytest.approx(1 / 3)


def test_no_hits_is_zero() -> None:
    truth = truth_matrix([{0}, {1}], 4)
    assert precision.measure(np.array([[2, 3], [0, -1]]), truth, 2) == 0.0


def test_all_truth_empty_gives_zero_and_nan_per_user() -> None:
    truth = truth_matrix([set(), set()], 4)
    recs = np.array([[0, 1], [2, 3]])
    assert precision.measure(recs, truth, 2) == 0.0
    assert np.isnan(precision.per_user(recs, truth, 2)).all()


def test_all_padding() -> None:
    truth = truth_matrix([{0}], 4)
    assert precision.measure(np.full((1, 3), -1), truth, 3) == 0.0


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_bad_k(k: object) -> None:
    with pytest.raises(Invalid):
        precision.measure(ONE_RECS, ONE_TRUTH, k)  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    with pytest.raises(Invalid):
        precision.measure(np.array([3, 2, 1]), ONE_TRUTH, 3)  # 1-D
    with pytest.raises(Invalid):
        precision.measure(np.array([[3], [2]]), ONE_TRUTH, 1)  # 2 rows, 1 truth row
    with pytest.raises(Invalid):
        precision.measure(np.array([[4]]), ONE_TRUTH, 1)  # item 4 of a 4-item truth
    with pytest.raises(Invalid):
        precision.measure(np.array([[-2]]), ONE_TRUTH, 1)  # only -1 is padding
    with pytest.raises(Invalid):
        precision.measure(np.array([[0.5]]), ONE_TRUTH, 1)  # not indices
    with pytest.raises(Invalid):
        precision.measure(ONE_RECS, ONE_TRUTH.toarray(), 1)  # dense truth
