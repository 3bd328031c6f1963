"""The metrics check of auto-deploy: is a new model comparable to or better than the served one?

Pure: it reads two models' training statistics (the ``statistics`` of the
Model body) and nothing else. The metric compared is ``metric`` (``ndcg@10``
by default; ``precision@k``, ``recall@k`` and ``map@k`` too, k in 1..100),
from ``statistics["evaluation"]["metrics"]``, there when a model was trained
with ``evaluationUsageRelativePath``. As the reference says, a new model is
promoted when its metrics are comparable or better: here, no more than
``tolerance`` (a share, default 1 %) below the served model's value.

* ``skip_metrics_check`` → promote;
* the new model has no value for the metric → do not promote (a failed
  promotion whose reason says so, never a silent skip);
* the served model has none → promote (there is nothing to compare with);
* promote when ``new >= served * (1 - tolerance)``, otherwise not.

>>> def stats(value):
...     return {"evaluation": {"metrics": {"ndcgMetrics": [{"k": 10, "value": value}]}}}
>>> check_metrics(stats(0.396), stats(0.4), skip_metrics_check=False).promote
True
>>> check = check_metrics(stats(0.25), stats(0.5), skip_metrics_check=False)
>>> check.promote, check.reason
(False, "metrics regression: ndcg@10 0.25 is more than 1% below the served model's 0.5")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_METRIC",
    "DEFAULT_TOLERANCE",
    "METRIC_NAMES",
    "MetricsCheck",
    "check_metrics",
    "metric_value",
    "ndcg_by_k",
]

DEFAULT_METRIC = "ndcg@10"
DEFAULT_TOLERANCE = 0.01
#: the metrics a check can compare, at k in 1..100: ``ndcg@10``, ``precision@5``, ...
METRIC_NAMES = ("ndcg", "precision", "recall", "map")

_INF = float("inf")
_ENTRIES = {
    "ndcg": ("ndcgMetrics", "value", 1.0),
    "recall": ("recallMetrics", "value", 1.0),
    "map": ("mapMetrics", "value", 1.0),
    "precision": ("precisionMetrics", "percentage", 0.01),
}


@dataclass(frozen=True)
class MetricsCheck:
    """Whether to promote the new model, and why, in one sentence."""

    promote: bool
    reason: str


def _by_k(statistics: Mapping[str, Any] | None, name: str) -> dict[int, float]:
    key, value_key, scale = _ENTRIES[name]
    evaluation = (statistics or {}).get("evaluation")
    metrics = evaluation.get("metrics") if isinstance(evaluation, Mapping) else None
    entries = metrics.get(key) if isinstance(metrics, Mapping) else None
    if not isinstance(entries, list):
        return {}
    found: dict[int, float] = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        k, value = entry.get("k"), entry.get(value_key)
        if isinstance(k, int) and isinstance(value, int | float) and -_INF < value < _INF:
            found[k] = float(value) * scale
    return found


def ndcg_by_k(statistics: Mapping[str, Any] | None) -> dict[int, float]:
    """A model's nDCG@k by k; empty when it was trained without evaluation data."""
    return _by_k(statistics, "ndcg")


def metric_value(statistics: Mapping[str, Any] | None, metric: str) -> float | None:
    """The model's ``metric`` (``ndcg@10``; precision as a share), ``None`` if it has none."""
    name, _, k = metric.partition("@")
    if name not in METRIC_NAMES or not k.isdigit() or not 1 <= int(k) <= 100:
        raise ValueError(f"unknown metric {metric!r}: ndcg, precision, recall or map @ 1..100")
    return _by_k(statistics, name).get(int(k))


def check_metrics(
    new_statistics: Mapping[str, Any] | None,
    served_statistics: Mapping[str, Any] | None,
    *,
    skip_metrics_check: bool,
    metric: str = DEFAULT_METRIC,
    tolerance: float = DEFAULT_TOLERANCE,
) -> MetricsCheck:
    """Decide whether the new model replaces the served one (see the module docstring)."""
    if skip_metrics_check:
        return MetricsCheck(True, "the metrics check is skipped (skipMetricsCheck)")
    new = metric_value(new_statistics, metric)
    if new is None:
        return MetricsCheck(
            False,
            f"the new model has no evaluation metric {metric} (train it with "
            "evaluationUsageRelativePath, or set skipMetricsCheck)",
        )
    served = metric_value(served_statistics, metric)
    if served is None:
        return MetricsCheck(True, f"the served model has no {metric} to compare with")
    allowed = f"{tolerance * 100:.6g}%"
    if new >= served * (1 - tolerance):
        return MetricsCheck(
            True,
            f"comparable or better: {metric} {new:.6g} against the served model's "
            f"{served:.6g} (at most {allowed} below)",
        )
    return MetricsCheck(
        False,
        f"metrics regression: {metric} {new:.6g} is more than {allowed} below the served "
        f"model's {served:.6g}",
    )
