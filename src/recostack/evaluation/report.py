"""The evaluation report of a trained model: every metric at every k, at once.

:func:`evaluation_metrics` computes the hit matrix once, at the largest k,
and derives each metric at each k from it. Its :meth:`EvaluationMetrics.to_dict`
is the reference's "Model Evaluation Metrics" object::

    {"precisionMetrics": [{"k": 1, "percentage": 12.5, "usersInTest": 800}, ...],
     "diversityMetrics": {"percentileBuckets": [...], "totalItemsRecommended": ...,
                          "uniqueItemsRecommended": ..., "uniqueItemsInTrainSet": ...},
     # Recostack's additions:
     "recallMetrics": [{"k": 1, "value": 0.031}, ...],
     "ndcgMetrics": [...], "mapMetrics": [...], "mapLegacyMetrics": [...],
     "catalogCoverage": 0.42}

* ``percentage`` of a precision metric is mean precision@k **times 100**: a
  percentage, as its name says. Every other ranking metric is a ratio in
  ``[0, 1]`` under ``value``.
* ``usersInTest`` is the number of users evaluated: the rows of ``truth``
  with at least one relevant item. Rows with an empty truth row count
  nowhere, neither in the ranking metrics nor in diversity and coverage.
* ``mapMetrics`` is MAP@k (divided by ``min(|relevant|, k)``),
  ``mapLegacyMetrics`` the ``recommenders`` package's legacy ``map``
  (divided by ``|relevant|``); see :mod:`recostack.evaluation.map`.
* Diversity and ``catalogCoverage`` (a ratio of ``n_items``) are computed on
  the top ``max(ks)`` recommendations of the evaluated users.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy.typing as npt

from recostack.errors import Invalid
from recostack.evaluation import coverage, ndcg, precision, recall
from recostack.evaluation import map as map_metrics
from recostack.evaluation._hits import (
    FloatArray,
    RankedHits,
    check_k,
    check_recs,
    mean_over_evaluated,
    ranked_hits,
)
from recostack.evaluation.diversity import DiversityMetrics, diversity_metrics

__all__ = ["EvaluationMetrics", "evaluation_metrics"]


@dataclass(frozen=True)
class EvaluationMetrics:
    """Every evaluation metric, keyed by k; ratios in ``[0, 1]``."""

    ks: tuple[int, ...]
    users_in_test: int
    precision: dict[int, float]
    recall: dict[int, float]
    ndcg: dict[int, float]
    map_at_k: dict[int, float]
    map_legacy: dict[int, float]
    catalog_coverage: float
    diversity: DiversityMetrics

    def to_dict(self) -> dict[str, Any]:
        """The camelCase wire form (reference schema plus Recostack's additions)."""

        def values(metric: dict[int, float]) -> list[dict[str, Any]]:
            return [{"k": k, "value": metric[k]} for k in self.ks]

        return {
            "precisionMetrics": [
                {"k": k, "percentage": 100.0 * self.precision[k], "usersInTest": self.users_in_test}
                for k in self.ks
            ],
            "diversityMetrics": self.diversity.to_dict(),
            "recallMetrics": values(self.recall),
            "ndcgMetrics": values(self.ndcg),
            "mapMetrics": values(self.map_at_k),
            "mapLegacyMetrics": values(self.map_legacy),
            "catalogCoverage": self.catalog_coverage,
        }


def _check_ks(ks: Iterable[int]) -> tuple[int, ...]:
    checked = sorted({check_k(k) for k in ks})
    if not checked:
        raise Invalid("ks must hold at least one k", field="ks")
    return tuple(checked)


def evaluation_metrics(
    recs: npt.ArrayLike,
    truth: Any,
    train: Any,
    n_items: int,
    ks: Iterable[int] = range(1, 11),
) -> EvaluationMetrics:
    """Evaluate top-k recommendations against held-out truth.

    ``recs`` (n_users x width, ``-1`` padded) and ``truth`` (n_users x
    n_items sparse) follow the package conventions; ``train`` is the user x
    item matrix the model was trained on (for the diversity popularity), and
    ``n_items`` the catalog size (for coverage).
    """
    k_values = _check_ks(ks)
    hits = ranked_hits(recs, truth, max(k_values))
    evaluated = hits.evaluated

    def by_k(per_user: Callable[[RankedHits, int], FloatArray]) -> dict[int, float]:
        return {k: mean_over_evaluated(per_user(hits, k), evaluated) for k in k_values}

    evaluated_recs = check_recs(recs)[evaluated]
    return EvaluationMetrics(
        ks=k_values,
        users_in_test=int(evaluated.sum()),
        precision=by_k(precision.per_user_from_hits),
        recall=by_k(recall.per_user_from_hits),
        ndcg=by_k(ndcg.per_user_from_hits),
        map_at_k=by_k(map_metrics.per_user_at_k_from_hits),
        map_legacy=by_k(map_metrics.per_user_legacy_from_hits),
        catalog_coverage=coverage.measure(evaluated_recs, n_items, hits.k),
        diversity=diversity_metrics(evaluated_recs, train, hits.k),
    )
