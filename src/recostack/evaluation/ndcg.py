"""nDCG@k with binary gains.

``DCG@k(u) = Σ_{i=1..k} rel_i / log2(i + 1)`` where ``rel_i`` is 1 when the
item at rank ``i`` is relevant, and ``IDCG@k(u)`` is the DCG of a list whose
first ``min(|relevant(u)|, k)`` items are all relevant; ``nDCG = DCG / IDCG``.

This equals the ``recommenders`` package's ``ndcg_at_k`` with binary
relevance: it uses the natural log in both DCG and IDCG, and the base of the
logarithm cancels in the ratio.

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


def _discounts(k: int) -> FloatArray:
    """``1 / log2(i + 1)`` for ranks ``i = 1..k``."""
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def per_user_from_hits(hits: RankedHits, k: int) -> FloatArray:
    """nDCG@k per user from a precomputed hit matrix (NaN for skipped users)."""
    k = check_k(k)
    top = hits.top(k)
    discounts = _discounts(k)
    dcg = top.astype(np.float64) @ discounts[: top.shape[1]]
    ideal_dcg = np.concatenate(([0.0], np.cumsum(discounts)))  # by number of ones
    idcg = ideal_dcg[np.minimum(hits.n_relevant, k)]
    return per_user_ratio(dcg, idcg, hits.evaluated)


def per_user(recs: npt.ArrayLike, truth: Any, k: int) -> FloatArray:
    """nDCG@k of every user (row of ``recs``); NaN where the truth row is empty."""
    return per_user_of(per_user_from_hits, recs, truth, k)


def measure(recs: npt.ArrayLike, truth: Any, k: int) -> float:
    """Mean nDCG@k over the users with at least one relevant item.

    >>> import numpy as np, scipy.sparse as sp
    >>> truth = sp.csr_matrix(np.array([[0, 1, 0, 1]]))
    >>> round(measure(np.array([[3, 2, 1]]), truth, 3), 4)  # (1 + 1/2) / (1 + 1/log2(3))
    0.9197
    """
    return mean_of(per_user_from_hits, recs, truth, k)
