"""Recall@k: the share of a user's relevant items found in the top k.

``recall@k(u) = |top-k(u) ∩ relevant(u)| / |relevant(u)|``, as in the
``recommenders`` package's ``recall_at_k``. A user with more than ``k``
relevant items cannot reach 1.

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
    """Recall@k per user from a precomputed hit matrix (NaN for skipped users)."""
    k = check_k(k)
    n_hits = hits.top(k).sum(axis=1, dtype=np.float64)
    return per_user_ratio(n_hits, hits.n_relevant, hits.evaluated)


def per_user(recs: npt.ArrayLike, truth: Any, k: int) -> FloatArray:
    """Recall@k of every user (row of ``recs``); NaN where the truth row is empty."""
    return per_user_of(per_user_from_hits, recs, truth, k)


def measure(recs: npt.ArrayLike, truth: Any, k: int) -> float:
    """Mean recall@k over the users with at least one relevant item.

    >>> import numpy as np, scipy.sparse as sp
    >>> truth = sp.csr_matrix(np.array([[0, 1, 0, 1]]))
    >>> measure(np.array([[3, 2, 1]]), truth, 3)  # both relevant items found
    1.0
    """
    return mean_of(per_user_from_hits, recs, truth, k)
