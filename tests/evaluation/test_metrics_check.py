"""The auto-deploy metrics check on hand-written training statistics."""

from __future__ import annotations

from typing import Any

import pytest

from recostack.evaluation.metrics_check import check_metrics, metric_value, ndcg_by_k


def stats(ndcg: dict[int, float]) -> dict[str, Any]:
    """Training statistics as the pipeline writes them, with only the nDCG that matters here."""
    return {
        "numberOfUsers": 24,
        "evaluation": {
            "duration": "00:00:00.0100000",
            "metrics": {
                "precisionMetrics": [
                    {"k": k, "percentage": 10.0, "usersInTest": 10} for k in sorted(ndcg)
                ],
                "ndcgMetrics": [{"k": k, "value": v} for k, v in sorted(ndcg.items())],
            },
        },
    }


NO_EVALUATION = {"numberOfUsers": 24, "trainingDuration": "00:00:00.1000000"}


def test_ndcg_by_k_reads_the_pipeline_schema() -> None:
    assert ndcg_by_k(stats({1: 0.5, 10: 0.25})) == {1: 0.5, 10: 0.25}
    assert ndcg_by_k(NO_EVALUATION) == {}
    assert ndcg_by_k(None) == {}


@pytest.mark.parametrize(
    "broken",
    [
        {"evaluation": None},
        {"evaluation": {"usageEventsParsing": {}}},  # the evaluation file failed to parse
        {"evaluation": {"metrics": {"ndcgMetrics": "nope"}}},
        {"evaluation": {"metrics": {"ndcgMetrics": [{"k": "10", "value": 0.5}, 3]}}},
        {"evaluation": {"metrics": {"ndcgMetrics": [{"k": 10, "value": float("nan")}]}}},
    ],
)
def test_malformed_statistics_count_as_no_evaluation(broken: dict[str, Any]) -> None:
    assert ndcg_by_k(broken) == {}


def test_promotes_a_better_model() -> None:
    check = check_metrics(stats({10: 0.5}), stats({10: 0.4}), skip_metrics_check=False)
    assert check.promote
    assert check.reason == (
        "comparable or better: ndcg@10 0.5 against the served model's 0.4 (at most 1% below)"
    )


def test_promotes_an_equal_model_and_one_within_the_tolerance() -> None:
    assert check_metrics(stats({10: 0.4}), stats({10: 0.4}), skip_metrics_check=False).promote
    # 0.396 = 0.4 * 0.99: exactly 1 % below is still comparable; 0.3959 is not
    assert check_metrics(stats({10: 0.396}), stats({10: 0.4}), skip_metrics_check=False).promote
    assert not check_metrics(
        stats({10: 0.3959}), stats({10: 0.4}), skip_metrics_check=False
    ).promote


def test_a_regression_is_refused_naming_both_values() -> None:
    check = check_metrics(stats({10: 0.3125}), stats({10: 0.4375}), skip_metrics_check=False)
    assert not check.promote
    assert check.reason.startswith("metrics regression")
    assert "ndcg@10" in check.reason and "0.3125" in check.reason and "0.4375" in check.reason


def test_the_metric_and_the_tolerance_are_configurable() -> None:
    new, served = stats({5: 0.1, 10: 0.6}), stats({5: 0.9, 10: 0.5})
    assert check_metrics(new, served, skip_metrics_check=False).promote  # ndcg@10
    check = check_metrics(new, served, skip_metrics_check=False, metric="ndcg@5")
    assert not check.promote and "ndcg@5" in check.reason
    # 0.1 is 89 % below 0.9: within a tolerance of 0.9, not of 0.5
    assert check_metrics(new, served, skip_metrics_check=False, metric="ndcg@5", tolerance=0.9)
    assert not check_metrics(
        new, served, skip_metrics_check=False, metric="ndcg@5", tolerance=0.5
    ).promote
    # precision is compared as a share (the statistics hold percentages)
    assert metric_value(stats({10: 0.5}), "precision@10") == 0.1


def test_skip_metrics_check_promotes_a_regression_and_a_model_without_metrics() -> None:
    for new in (stats({10: 0.1}), NO_EVALUATION):
        check = check_metrics(new, stats({10: 0.9}), skip_metrics_check=True)
        assert check.promote and "skipMetricsCheck" in check.reason


def test_a_new_model_without_metrics_is_not_promoted_and_says_why() -> None:
    for served in (stats({10: 0.2}), NO_EVALUATION, None):
        check = check_metrics(NO_EVALUATION, served, skip_metrics_check=False)
        assert not check.promote
        assert "no evaluation metric ndcg@10" in check.reason and "new model" in check.reason


def test_a_served_model_without_metrics_is_replaced() -> None:
    for served in (NO_EVALUATION, None, stats({20: 0.9})):  # nothing at k = 10 either
        check = check_metrics(stats({10: 0.01}), served, skip_metrics_check=False)
        assert check.promote and "served model has no ndcg@10" in check.reason
