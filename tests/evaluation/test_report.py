from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recostack.errors import Invalid
from recostack.evaluation import (
    catalog_coverage,
    diversity_metrics,
    evaluation_metrics,
    map_at_k,
    map_legacy,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
)

from ._cases import N_ITEMS, RECS, TRUTH


def toy_train() -> sp.csr_matrix:
    # 3 users; item popularity (distinct users): item 0 -> 3, 1 -> 2, 2 -> 1, 3..5 -> 0
    dense = np.array(
        [
            [1, 1, 1, 0, 0, 0],
            [1, 1, 0, 0, 0, 0],
            [1, 0, 0, 0, 0, 0],
        ]
    )
    return sp.csr_matrix(dense)


def test_hand_computed_report() -> None:
    report = evaluation_metrics(RECS, TRUTH, toy_train(), n_items=N_ITEMS, ks=[1, 2])
    # users 0, 2, 3 have relevant items; user 1 is skipped
    assert report.users_in_test == 3
    # top 1: user 0 [2] hit, user 2 [1] miss, user 3 [3] hit
    #   P@1 = (1 + 0 + 1) / 3; R@1 = (1/3 + 0 + 1/2) / 3
    # top 2: user 0 [2, 5] 1 hit, user 2 [1, -1] 0, user 3 [3, 1] 2 hits
    #   P@2 = (1/2 + 0 + 2/2) / 3; R@2 = (1/3 + 0 + 2/2) / 3
    assert report.precision == pytest.approx({1: 2 / 3, 2: 1.5 / 3})
    assert report.recall == pytest.approx({1: (1 / 3 + 1 / 2) / 3, 2: (1 / 3 + 1) / 3})
    # MAP@2: user 0 1 / min(3, 2); user 3 (1 + 1) / 2 -> (1/2 + 0 + 1) / 3
    # legacy: user 0 1 / 3 -> (1/3 + 0 + 1) / 3
    assert report.map_at_k[2] == pytest.approx((1 / 2 + 1) / 3)
    assert report.map_legacy[2] == pytest.approx((1 / 3 + 1) / 3)
    # coverage at k = 2 over the evaluated users: {2, 5, 1, 3} of 6 (user 1's {0} not counted)
    assert report.catalog_coverage == pytest.approx(4 / 6)
    # diversity over the same 5 slots [2, 5], [1], [3, 1]:
    #   train items 0, 1, 2 with popularity 3, 2, 1: percentiles 66.7, 33.3, 0 -> all [0, 90)
    assert report.diversity.total_items_recommended == 5
    assert report.diversity.unique_items_recommended == 4
    assert report.diversity.unique_items_in_train_set == 3
    assert report.diversity.percentile_buckets[0].percentage == 100.0


def test_to_dict_schema() -> None:
    report = evaluation_metrics(RECS, TRUTH, toy_train(), n_items=N_ITEMS, ks=range(1, 4))
    body = report.to_dict()
    assert set(body) == {
        "precisionMetrics",
        "diversityMetrics",
        "recallMetrics",
        "ndcgMetrics",
        "mapMetrics",
        "mapLegacyMetrics",
        "catalogCoverage",
    }
    assert [m["k"] for m in body["precisionMetrics"]] == [1, 2, 3]
    first = body["precisionMetrics"][0]
    assert set(first) == {"k", "percentage", "usersInTest"}
    # percentage is precision x 100: P@1 = 2/3
    assert first["percentage"] == pytest.approx(100 * 2 / 3)
    assert first["usersInTest"] == 3
    for key in ("recallMetrics", "ndcgMetrics", "mapMetrics", "mapLegacyMetrics"):
        assert [set(m) for m in body[key]] == [{"k", "value"}] * 3
    assert set(body["diversityMetrics"]) == {
        "percentileBuckets",
        "totalItemsRecommended",
        "uniqueItemsRecommended",
        "uniqueItemsInTrainSet",
    }
    assert isinstance(body["catalogCoverage"], float)


def test_default_ks_are_one_to_ten() -> None:
    report = evaluation_metrics(RECS, TRUTH, toy_train(), n_items=N_ITEMS)
    assert report.ks == tuple(range(1, 11))
    assert list(report.precision) == list(range(1, 11))


def test_ks_are_sorted_and_deduplicated() -> None:
    report = evaluation_metrics(RECS, TRUTH, toy_train(), n_items=N_ITEMS, ks=[3, 1, 3])
    assert report.ks == (1, 3)
    with pytest.raises(Invalid):
        evaluation_metrics(RECS, TRUTH, toy_train(), n_items=N_ITEMS, ks=[])
    with pytest.raises(Invalid):
        evaluation_metrics(RECS, TRUTH, toy_train(), n_items=N_ITEMS, ks=[0, 1])


def test_agrees_with_the_single_metrics_on_random_data() -> None:
    rng = np.random.default_rng(3)
    n_users, n_items, width = 300, 40, 8
    recs = np.stack([rng.permutation(n_items)[:width] for _ in range(n_users)])
    recs[rng.random(recs.shape) < 0.1] = -1  # ragged padding, anywhere
    truth = sp.random(n_users, n_items, density=0.08, format="csr", rng=rng)
    train = sp.random(50, n_items, density=0.3, format="csr", rng=rng)
    ks = [1, 3, 5, 10]
    report = evaluation_metrics(recs, truth, train, n_items, ks)
    evaluated = np.diff(truth.indptr) > 0
    assert report.users_in_test == int(evaluated.sum())
    for k in ks:
        assert report.precision[k] == pytest.approx(precision_at_k(recs, truth, k))
        assert report.recall[k] == pytest.approx(recall_at_k(recs, truth, k))
        assert report.ndcg[k] == pytest.approx(ndcg_at_k(recs, truth, k))
        assert report.map_at_k[k] == pytest.approx(map_at_k(recs, truth, k))
        assert report.map_legacy[k] == pytest.approx(map_legacy(recs, truth, k))
    assert report.catalog_coverage == pytest.approx(catalog_coverage(recs[evaluated], n_items))
    assert report.diversity == diversity_metrics(recs[evaluated], train)


def test_nobody_to_evaluate() -> None:
    truth = sp.csr_matrix((2, N_ITEMS))
    report = evaluation_metrics(RECS[:2], truth, toy_train(), n_items=N_ITEMS, ks=[1])
    assert report.users_in_test == 0
    assert report.precision == {1: 0.0}
    assert report.catalog_coverage == 0.0
    assert report.diversity.total_items_recommended == 0
