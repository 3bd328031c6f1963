from __future__ import annotations

import numpy as np
import pytest

from recostack.errors import Invalid
from recostack.evaluation import coverage


def test_unique_items_over_catalog() -> None:
    recs = np.array([[0, 1], [2, -1], [1, 0]])
    # {0, 1, 2} of 4 items
    assert coverage.measure(recs, n_items=4) == pytest.approx(3 / 4)
    # top 1: {0, 2, 1} -> still 3 of 4; on 6 items -> 3 / 6
    assert coverage.measure(recs, n_items=6, k=1) == pytest.approx(3 / 6)
    # top 1 of the first two rows: {0, 2} of 4
    assert coverage.measure(recs[:2], n_items=4, k=1) == pytest.approx(2 / 4)


def test_empty_and_all_padding() -> None:
    assert coverage.measure(np.zeros((0, 3), dtype=int), n_items=4) == 0.0
    assert coverage.measure(np.full((2, 3), -1), n_items=4) == 0.0


def test_recommended_items_sorted_unique() -> None:
    recs = np.array([[5, 1, -1], [1, 3, 5]])
    np.testing.assert_array_equal(coverage.recommended_items(recs), [1, 3, 5])


def test_bad_inputs() -> None:
    with pytest.raises(Invalid):
        coverage.measure(np.array([[4]]), n_items=4)
    with pytest.raises(Invalid):
        coverage.measure(np.array([[0]]), n_items=0)
