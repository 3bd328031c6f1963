"""The metrics check of auto-deploy: is a newly trained model at least as good as the served one?

Pure: it reads two models' training statistics (the ``statistics`` of the
Model body) and nothing else. The metric compared is nDCG at the largest k
both models were evaluated at (``statistics["evaluation"]["metrics"]
["ndcgMetrics"]``, there when a model was trained with
``evaluationUsageRelativePath``):

* ``skip_metrics_check`` → promote;
* the new model has no nDCG → skip (nothing shows it is not worse);
* the served model has none (or none at a k the new model has) → promote;
* promote when the new model's nDCG@k ≥ the served model's, skip otherwise.

>>> def stats(value):
...     return {"evaluation": {"metrics": {"ndcgMetrics": [{"k": 10, "value": value}]}}}
>>> check = check_metrics(stats(0.25), stats(0.5), skip_metrics_check=False)
>>> check.promote, check.reason
(False, "metrics regression: nDCG@10 0.25 is below the served model's 0.5")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MetricsCheck", "check_metrics", "ndcg_by_k"]

_INF = float("inf")


@dataclass(frozen=True)
class MetricsCheck:
    """Whether to promote the new model, and why, in one sentence."""

    promote: bool
    reason: str


def ndcg_by_k(statistics: Mapping[str, Any] | None) -> dict[int, float]:
    """A model's nDCG@k by k; empty when it was trained without evaluation data."""
    evaluation = (statistics or {}).get("evaluation")
    metrics = evaluation.get("metrics") if isinstance(evaluation, Mapping) else None
    entries = metrics.get("ndcgMetrics") if isinstance(metrics, Mapping) else None
    if not isinstance(entries, list):
        return {}
    found: dict[int, float] = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        k, value = entry.get("k"), entry.get("value")
        if isinstance(k, int) and isinstance(value, int | float) and -_INF < value < _INF:
            found[k] = float(value)
    return found


def check_metrics(
    new_statistics: Mapping[str, Any] | None,
    served_statistics: Mapping[str, Any] | None,
    *,
    skip_metrics_check: bool,
) -> MetricsCheck:
    """Decide whether the new model replaces the served one (see the module docstring)."""
    if skip_metrics_check:
        return MetricsCheck(True, "the metrics check is skipped (skipMetricsCheck)")
    new = ndcg_by_k(new_statistics)
    if not new:
        return MetricsCheck(
            False,
            "the new model has no evaluation metrics (train it with "
            "evaluationUsageRelativePath, or set skipMetricsCheck)",
        )
    served = ndcg_by_k(served_statistics)
    common = new.keys() & served.keys()
    if not common:
        return MetricsCheck(True, "the served model has no evaluation metrics to compare with")
    k = max(common)
    if new[k] >= served[k]:
        return MetricsCheck(
            True, f"nDCG@{k} {new[k]:.6g} is not below the served model's {served[k]:.6g}"
        )
    return MetricsCheck(
        False,
        f"metrics regression: nDCG@{k} {new[k]:.6g} is below the served model's {served[k]:.6g}",
    )
