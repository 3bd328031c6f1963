"""Offline evaluation: ranking metrics, diversity, coverage and splits.

Pure numpy/scipy; no I/O. Conventions shared by every metric:

* Items and users are integer indices.
* ``recs``: a 2-D int array ``(n_users, k)`` of recommended items in rank
  order, padded with ``-1`` where fewer than ``k`` items were recommended.
* ``truth``: a ``scipy.sparse`` matrix ``(n_users, n_items)`` whose stored
  nonzeros are each user's relevant test items; row ``u`` goes with row
  ``u`` of ``recs``.
* Users with an empty truth row are skipped: ``*_per_user`` gives them NaN
  and no average counts them. An average over no users is 0.0.
  A user with relevant items but an all-padding row counts, with 0 (the
  ``recommenders`` package averages over users present in both truth and
  predictions, which is the same whenever every test user gets a list).
* Items are assumed distinct within a row; a repeated item is a hit at its
  first rank only.

One metric per module (``precision``, ``recall``, ``ndcg``, ``map``,
``coverage``, ``diversity``), each with ``measure`` and, where it is a
per-user quantity, ``per_user``; :func:`evaluation_metrics` computes them all
at once for the model's evaluation report; :func:`check_metrics` compares two
models' reports for auto-deploy.
"""

from __future__ import annotations

from recostack.evaluation.coverage import measure as catalog_coverage
from recostack.evaluation.diversity import (
    DiversityMetrics,
    PercentileBucket,
    diversity_metrics,
    item_popularity,
)
from recostack.evaluation.map import map_at_k, map_legacy
from recostack.evaluation.map import per_user_at_k as map_at_k_per_user
from recostack.evaluation.map import per_user_legacy as map_legacy_per_user
from recostack.evaluation.metrics_check import MetricsCheck, check_metrics
from recostack.evaluation.ndcg import measure as ndcg_at_k
from recostack.evaluation.ndcg import per_user as ndcg_per_user
from recostack.evaluation.precision import measure as precision_at_k
from recostack.evaluation.precision import per_user as precision_per_user
from recostack.evaluation.recall import measure as recall_at_k
from recostack.evaluation.recall import per_user as recall_per_user
from recostack.evaluation.report import EvaluationMetrics, evaluation_metrics
from recostack.evaluation.splits import chronological_split, leave_last_out, stratified_split

__all__ = [
    "DiversityMetrics",
    "EvaluationMetrics",
    "MetricsCheck",
    "PercentileBucket",
    "catalog_coverage",
    "check_metrics",
    "chronological_split",
    "diversity_metrics",
    "evaluation_metrics",
    "item_popularity",
    "leave_last_out",
    "map_at_k",
    "map_at_k_per_user",
    "map_legacy",
    "map_legacy_per_user",
    "ndcg_at_k",
    "ndcg_per_user",
    "precision_at_k",
    "precision_per_user",
    "recall_at_k",
    "recall_per_user",
    "stratified_split",
]
