"""The Wilson score interval, by hand."""

from __future__ import annotations

import math

import pytest

from recostack.evaluation.proportions import wilson_interval


def test_a_worked_example() -> None:
    # 10 of 100, z = 1.96: centre 0.1 + 3.8416/200 = 0.119208; spread 1.96 *
    # sqrt(0.0009 + 0.00009604) = 0.0618578; over 1 + 3.8416/100 = 1.038416:
    # (0.119208 - 0.0618578) / 1.038416 = 0.055229, (0.119208 + 0.0618578) / 1.038416 = 0.174367
    low, high = wilson_interval(10, 100)
    assert low == pytest.approx(0.055229, abs=1e-6)
    assert high == pytest.approx(0.174367, abs=1e-6)


def test_the_edges_stay_inside_zero_and_one() -> None:
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and high == pytest.approx(3.8416 / 23.8416, abs=1e-9)  # z²/(n+z²)
    low, high = wilson_interval(20, 20)
    assert high == pytest.approx(1.0) and math.isclose(low, 20 / 23.8416, abs_tol=1e-9)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
