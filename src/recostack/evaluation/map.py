"""Mean average precision, in its two common normalisations.

Both sum, over the hits in the top ``k``, the precision at the hit's rank:
``S@k(u) = Σ_{i ≤ k, item i relevant} precision@i(u)``. They differ in what
the sum is divided by:

* :func:`map_at_k` — ``AP@k(u) = S@k(u) / min(|relevant(u)|, k)``, the
  ``recommenders`` package's ``map_at_k`` (and Spark's
  ``meanAveragePrecisionAt``): a perfect top-k list scores 1 even when the
  user has more than ``k`` relevant items. This is Recostack's "MAP@k".
* :func:`map_legacy` — ``S@k(u) / |relevant(u)|``, the ``recommenders``
  package's legacy ``map`` (the formula its ``map_at_k`` used before the
  two were split; recommenders issue #1702, PR #2004), which the published
  SAR benchmark figures use. It is at most ``min(|relevant|, k) / |relevant|``,
  so it is never larger than MAP@k.

Conventions (recs, truth, skipped users): see :mod:`recostack.evaluation`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from recostack.evaluation._hits import (
    FloatArray,
    RankedHits,
    check_k,
    mean_of,
    per_user_of,
    per_user_ratio,
)

__all__ = [
    "map_at_k",
    "map_legacy",
    "measure",
    "per_user",
    "per_user_at_k",
    "per_user_at_k_from_hits",
    "per_user_legacy",
    "per_user_legacy_from_hits",
]


def _precision_sum(hits: RankedHits, k: int) -> FloatArray:
    """``Σ precision@i`` over the ranks ``i ≤ k`` that are hits, per user."""
    top = hits.top(k).astype(np.float64)
    ranks = np.arange(1, top.shape[1] + 1, dtype=np.float64)
    return (np.cumsum(top, axis=1) / ranks * top).sum(axis=1)


def per_user_at_k_from_hits(hits: RankedHits, k: int) -> FloatArray:
    """AP@k per user (divided by ``min(|relevant|, k)``); NaN for skipped users."""
    k = check_k(k)
    return per_user_ratio(_precision_sum(hits, k), np.minimum(hits.n_relevant, k), hits.evaluated)


def per_user_legacy_from_hits(hits: RankedHits, k: int) -> FloatArray:
    """Legacy AP per user (divided by ``|relevant|``); NaN for skipped users."""
    k = check_k(k)
    return per_user_ratio(_precision_sum(hits, k), hits.n_relevant, hits.evaluated)


def per_user_at_k(recs: npt.ArrayLike, truth: Any, k: int) -> FloatArray:
    """AP@k of every user (row of ``recs``); NaN where the truth row is empty."""
    return per_user_of(per_user_at_k_from_hits, recs, truth, k)


def per_user_legacy(recs: npt.ArrayLike, truth: Any, k: int) -> FloatArray:
    """Legacy AP of every user (row of ``recs``); NaN where the truth row is empty."""
    return per_user_of(per_user_legacy_from_hits, recs, truth, k)


def map_at_k(recs: npt.ArrayLike, truth: Any, k: int) -> float:
    """MAP@k: mean of ``S@k / min(|relevant|, k)`` over users with a relevant item.

    >>> import numpy as np, scipy.sparse as sp
    >>> truth = sp.csr_matrix(np.array([[0, 1, 0, 1, 1]]))
    >>> map_at_k(np.array([[3, 2]]), truth, 2)  # (1/1) / min(3, 2)
    0.5
    """
    return mean_of(per_user_at_k_from_hits, recs, truth, k)


def map_legacy(recs: npt.ArrayLike, truth: Any, k: int) -> float:
    """Legacy MAP: mean of ``S@k / |relevant|`` over users with a relevant item.

    >>> import numpy as np, scipy.sparse as sp
    >>> truth = sp.csr_matrix(np.array([[0, 1, 0, 1, 1]]))
    >>> round(map_legacy(np.array([[3, 2]]), truth, 2), 4)  # (1/1) / 3
    0.3333
    """
    return mean_of(per_user_legacy_from_hits, recs, truth, k)


#: The module's metric under the package-wide names: MAP@k.
measure = map_at_k
per_user = per_user_at_k
