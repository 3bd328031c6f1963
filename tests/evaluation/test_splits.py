from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recostack.errors import Invalid
from recostack.evaluation import chronological_split, leave_last_out, stratified_split


def events(rng: np.random.Generator, n_users: int = 60, max_events: int = 12) -> np.ndarray:
    """User indices of a shuffled event log: user u has between 1 and max_events events."""
    counts = rng.integers(1, max_events + 1, n_users)
    users = np.repeat(np.arange(n_users), counts)
    return rng.permutation(users)


def expected_train_count(n: int, ratio: float) -> int:
    """Per user: the first round(ratio * n) ranks (halves to even, as numpy and pandas
    round); a single event stays in train."""
    return 1 if n == 1 else int(np.round(ratio * n))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


# --- stratified -----------------------------------------------------------------------


def test_stratified_is_deterministic_with_a_seed(rng: np.random.Generator) -> None:
    users = events(rng)
    np.testing.assert_array_equal(stratified_split(users, seed=1), stratified_split(users, seed=1))
    assert not np.array_equal(stratified_split(users, seed=1), stratified_split(users, seed=2))
    with_gen = stratified_split(users, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(with_gen, stratified_split(users, seed=np.random.default_rng(5)))


def test_stratified_partitions_and_respects_ratio_per_user(rng: np.random.Generator) -> None:
    users = events(rng)
    for ratio in (0.75, 0.5, 0.2, 0.9):
        mask = stratified_split(users, ratio, seed=3)
        assert mask.dtype == bool and mask.shape == users.shape
        train, test = np.flatnonzero(mask), np.flatnonzero(~mask)
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(users.size))
        for u in np.unique(users):
            n = int((users == u).sum())
            assert int(mask[users == u].sum()) == expected_train_count(n, ratio)


def test_stratified_examples() -> None:
    # at 0.75, round(0.75 n) train events: 4 -> 3, 2 -> round(1.5) = 2 (half to
    # even), 3 -> round(2.25) = 2, 1 -> round(0.75) = 1
    users = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 3])
    mask = stratified_split(users, 0.75, seed=0)
    assert [int(mask[users == u].sum()) for u in range(4)] == [3, 2, 2, 1]
    # at 0.3 a lone event rounds to 0 train events: recommenders sends it to test,
    # keep_singletons (the default) keeps it in train
    legacy = stratified_split(users, 0.3, seed=0, keep_singletons=False)
    assert not legacy[users == 3].any()
    assert stratified_split(users, 0.3, seed=0)[users == 3].all()


def recommenders_stratified(users: np.ndarray, ratio: float, seed: int) -> np.ndarray:
    """The documented procedure of recommenders' python_stratified_split, in pandas.

    np.random.seed(seed); one uniform per row; sort by (user, random); rank within
    the user; train is rank <= round(ratio * count) (its code rounds a pandas Series).
    """
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        random = np.random.rand(users.size)
    finally:
        np.random.set_state(state)
    df = pd.DataFrame({"user": users, "random": random, "row": np.arange(users.size)})
    df = df.sort_values(["user", "random"])
    groups = df.groupby("user")
    df["rank"] = groups.cumcount() + 1
    df["count"] = groups["user"].transform("count")
    mask = np.zeros(users.size, dtype=bool)
    mask[df.loc[df["rank"] <= (ratio * df["count"]).round(), "row"].to_numpy()] = True
    return mask


@pytest.mark.parametrize("ratio", [0.75, 0.6, 0.3])
def test_stratified_matches_recommenders_draw_for_draw(
    rng: np.random.Generator, ratio: float
) -> None:
    users = events(rng, n_users=200)
    np.testing.assert_array_equal(
        stratified_split(users, ratio, seed=42, keep_singletons=False),
        recommenders_stratified(users, ratio, seed=42),
    )


def test_large_and_sparse_user_indices_group_correctly(rng: np.random.Generator) -> None:
    # user indices spanning ~2**19 (two 16-bit radix passes) and > 2**40 (three passes)
    for offset in (0, 2**40):
        users = events(rng) * 7919
        users[users % 2 == 1] += offset
        mask = stratified_split(users, 0.5, seed=9)
        for u in np.unique(users):
            n = int((users == u).sum())
            assert int(mask[users == u].sum()) == expected_train_count(n, 0.5)


# --- chronological --------------------------------------------------------------------


def test_chronological_oldest_share_goes_to_train(rng: np.random.Generator) -> None:
    users = events(rng)
    times = rng.integers(0, 50, users.size)  # many ties
    mask = chronological_split(users, times, 0.75)
    for u in np.unique(users):
        mine = users == u
        assert int(mask[mine].sum()) == expected_train_count(int(mine.sum()), 0.75)
        if (~mask[mine]).any():
            assert times[mine & mask].max() <= times[mine & ~mask].min()


def test_chronological_ties_keep_input_order() -> None:
    users = np.array([0, 0, 0, 0])
    times = np.array([5, 5, 5, 5])
    # ranks follow input order: the first three go to train
    assert chronological_split(users, times, 0.75).tolist() == [True, True, True, False]


def test_chronological_example() -> None:
    users = np.array([1, 0, 1, 0, 0, 1, 0])
    times = np.array([30, 4, 10, 1, 3, 20, 2])
    # user 0 times 4, 1, 3, 2 -> oldest three (1, 2, 3) train, 4 test
    # user 1 times 30, 10, 20 -> 2 of 3 (10, 20) train, 30 test
    assert chronological_split(users, times, 0.75).tolist() == [
        False,
        False,
        True,
        True,
        True,
        True,
        True,
    ]


def test_chronological_accepts_datetimes() -> None:
    users = np.array([0, 0])
    times = np.array(["2024-01-02", "2024-01-01"], dtype="datetime64[s]")
    assert chronological_split(users, times, 0.5).tolist() == [False, True]


# --- leave last out -------------------------------------------------------------------


def test_leave_last_out(rng: np.random.Generator) -> None:
    users = events(rng)
    times = rng.permutation(users.size)  # distinct
    mask = leave_last_out(users, times)
    for u in np.unique(users):
        mine = users == u
        test = np.flatnonzero(mine & ~mask)
        if mine.sum() == 1:
            assert test.size == 0
        else:
            assert test.size == 1
            assert times[test[0]] == times[mine].max()


def test_leave_last_out_ties_take_the_last_in_input_order() -> None:
    users = np.array([0, 0, 0, 1])
    times = np.array([9, 9, 1, 4])
    assert leave_last_out(users, times).tolist() == [True, False, True, True]


# --- edge cases -----------------------------------------------------------------------


def test_empty_input() -> None:
    empty = np.zeros(0, dtype=np.int64)
    assert stratified_split(empty).shape == (0,)
    assert chronological_split(empty, empty).shape == (0,)
    assert leave_last_out(empty, empty).shape == (0,)


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.5, 1.5, True])
def test_bad_ratio(ratio: float) -> None:
    with pytest.raises(Invalid):
        stratified_split(np.array([0, 0]), ratio)


def test_numpy_ratio_is_accepted() -> None:
    assert stratified_split(np.array([0, 0]), np.float32(0.5)).sum() == 1  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    with pytest.raises(Invalid):
        chronological_split(np.array([0, 0]), np.array([1]))
    with pytest.raises(Invalid):
        stratified_split(np.array([[0, 0]]))
    with pytest.raises(Invalid):
        stratified_split(np.array([0.5, 1.0]))
    with pytest.raises(Invalid):
        stratified_split(np.array([0, 0]), seed="x")  # type: ignore[arg-type]
