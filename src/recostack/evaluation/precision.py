"""Precision@k: the share of the top-k recommendation slots that are hits.

``precision@k(u) = |top-k(u) ∩ relevant(u)| / k``. The denominator is ``k``
even when fewer than ``k`` items were recommended (padding counts as a
miss), as in the ``recommenders`` package's ``precision_at_k`` and Spark's
``RankingMetrics.precisionAt``; so the best achievable value of a user with
fewer than ``k`` relevant items is ``|relevant| / k``.

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

__all__ = ["measure", "per_user", "per_user_from_hits"]


def per_user_from_hits(hits: RankedHits, k: int) -> FloatArray:
    """Precision@k per user from a precomputed hit matrix (NaN for skipped users)."""
    k = check_k(k)
    n_hits = hits.top(k).sum(axis=1, dtype=np.float64)
    return per_user_ratio(n_hits, float(k), hits.evaluated)


def per_user(recs: npt.ArrayLike, truth: Any, k: int) -> FloatArray:
    """Precision@k of every user (row of ``recs``); NaN where the truth row is empty."""
    return per_user_of(per_user_from_hits, recs, truth, k)


def measure(recs: npt.ArrayLike, truth: Any, k: int) -> float:
    """Mean precision@k over the users with at least one relevant item.

    >>> import numpy as np, scipy.sparse as sp
    >>> truth = sp.csr_matrix(np.array([[0, 1, 0, 1]]))
    >>> round(measure(np.array([[3, 2, 1]]), truth, 3), 4)  # 2 hits / 3
    0.6667
    """
    return mean_of(per_user_from_hits, recs, truth, k)
