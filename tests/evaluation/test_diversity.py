from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recostack.evaluation.diversity import (
    BUCKETS,
    diversity_metrics,
    item_popularity,
    popularity_bucket,
)


def staircase_train() -> sp.csr_matrix:
    """100 users x 101 items: item i (< 100) is used by users 0..i, item 100 by nobody.

    Popularity of item i is i + 1, all distinct, so item i is more popular than
    exactly i of the 100 train items: its percentile is i.
    """
    items, users = np.tril_indices(100)  # every (item, user) pair with user <= item
    return sp.csr_matrix((np.ones(users.size), (users, items)), shape=(100, 101))


def test_staircase_popularity_and_buckets() -> None:
    train = staircase_train()
    popularity = item_popularity(train)
    np.testing.assert_array_equal(popularity[:100], np.arange(1, 101))
    assert popularity[100] == 0
    buckets = popularity_bucket(popularity)
    # percentile i: 0..89 -> [0, 90); 90..98 -> [90, 99); 99 -> [99, 100]; cold -> [0, 90)
    np.testing.assert_array_equal(buckets[:90], 0)
    np.testing.assert_array_equal(buckets[90:99], 1)
    assert buckets[99] == 2
    assert buckets[100] == 0


def test_report_on_toy_recommendations() -> None:
    train = staircase_train()
    recs = np.array(
        [
            [99, 98, 50, 100],  # buckets 2, 1, 0, 0 (100 is cold)
            [90, 89, -1, -1],  # 90 is exactly the 90th percentile -> 1; 89 -> 0
        ]
    )
    report = diversity_metrics(recs, train)
    # 6 slots: bucket 0 {50, 100, 89} = 3, bucket 1 {98, 90} = 2, bucket 2 {99} = 1
    assert [b.percentage for b in report.percentile_buckets] == pytest.approx(
        [100 * 3 / 6, 100 * 2 / 6, 100 * 1 / 6]
    )
    assert report.total_items_recommended == 6
    assert report.unique_items_recommended == 6
    assert report.unique_items_in_train_set == 100
    assert report.to_dict() == {
        "percentileBuckets": [
            {"min": 0, "max": 90, "percentage": pytest.approx(50.0)},
            {"min": 90, "max": 99, "percentage": pytest.approx(100 / 3)},
            {"min": 99, "max": 100, "percentage": pytest.approx(100 / 6)},
        ],
        "totalItemsRecommended": 6,
        "uniqueItemsRecommended": 6,
        "uniqueItemsInTrainSet": 100,
    }


def test_k_limits_the_slots_and_duplicates_count_in_total() -> None:
    train = staircase_train()
    recs = np.array([[99, 10], [99, 20]])
    report = diversity_metrics(recs, train, k=1)
    # top 1: [99], [99] -> 2 slots, both in [99, 100]; 1 unique item
    assert [b.percentage for b in report.percentile_buckets] == [0.0, 0.0, 100.0]
    assert report.total_items_recommended == 2
    assert report.unique_items_recommended == 1


def test_popularity_counts_distinct_users_not_events_or_weights() -> None:
    # user 0 uses item 0 twice (duplicate COO entries) with weight 3; user 1 once
    # an explicit zero for item 1 is not a use
    rows = np.array([0, 0, 1, 1])
    cols = np.array([0, 0, 0, 1])
    data = np.array([3.0, 1.0, 1.0, 0.0])
    train = sp.coo_matrix((data, (rows, cols)), shape=(2, 3)).tocsr()
    np.testing.assert_array_equal(item_popularity(train), [2, 0, 0])


def test_ties_share_a_percentile() -> None:
    # four train items, popularity 5, 5, 1, 1: the 5s have 2 of 4 less popular (50%)
    np.testing.assert_array_equal(popularity_bucket([5, 5, 1, 1, 0]), [0, 0, 0, 0, 0])
    # 100 items, two tied at the top: each has 98 of 100 strictly below -> [90, 99)
    pop = np.concatenate([np.arange(1, 99), [1000, 1000]])
    buckets = popularity_bucket(pop)
    assert buckets[-1] == buckets[-2] == 1


def test_items_beyond_train_columns_are_cold() -> None:
    train = sp.csr_matrix(np.ones((1, 2)))
    report = diversity_metrics(np.array([[0, 5]]), train)
    # both train items tie at percentile 0 -> bucket 0; item 5 is cold -> bucket 0
    assert report.percentile_buckets[0].percentage == 100.0
    assert report.unique_items_in_train_set == 2


def test_no_recommendations() -> None:
    report = diversity_metrics(np.full((2, 3), -1), staircase_train())
    assert [b.percentage for b in report.percentile_buckets] == [0.0, 0.0, 0.0]
    assert report.total_items_recommended == 0
    assert report.unique_items_recommended == 0
    assert [(b.min_percentile, b.max_percentile) for b in report.percentile_buckets] == list(
        BUCKETS
    )
