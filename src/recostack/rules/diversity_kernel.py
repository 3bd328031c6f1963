"""The compiled greedy loop of diversity reranking (numba), see :mod:`recostack.rules.reranking`.

Two entry points, as for the scoring kernels (:mod:`recostack.algorithms.kernels`):
:func:`diversity_order` for Python callers, :func:`diversity_order_kernel`
for compiled code (:mod:`recostack.serving.ruled_kernel` reranks with it
inside its one call). The loop calls no compiled function of another
module, so numba's own cache, checked against this file, stays right for it.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["diversity_order", "diversity_order_kernel", "warm_up"]


@numba.njit(cache=True)
def diversity_order_kernel(
    scores: np.ndarray, codes: np.ndarray, empties: np.ndarray, weights: np.ndarray, k: int
) -> np.ndarray:
    """The compiled :func:`diversity_order`, all arguments given.

    ``scores`` float64, ``codes`` integers of shape (rules, candidates),
    ``empties`` integers and ``weights`` float64 (one per rule), ``k`` ≥ 0.
    """
    n = scores.shape[0]
    low, high, seen = 0.0, 0.0, False
    for s in scores:
        if np.isfinite(s):
            if not seen:
                low, high, seen = s, s, True
            else:
                low, high = min(low, s), max(high, s)
    spread = high - low
    if not (spread > 0 and np.isfinite(spread)):
        spread = 1.0
    relevance = np.empty(n, dtype=np.float64)
    for i in range(n):
        relevance[i] = (scores[i] - low) / spread if scores[i] > -np.inf else -np.inf
    adjusted = relevance.copy()
    picks = np.empty(k, dtype=np.int64)
    n_picks = 0
    while n_picks < k:
        pick = 0
        best = adjusted[0]
        for j in range(1, n):
            if adjusted[j] > best:
                best = adjusted[j]
                pick = j
        if best == -np.inf:
            break
        if best != relevance[pick]:  # penalised: a tie goes to the lower relevance, then earlier
            lowest = relevance[pick]
            for j in range(pick + 1, n):
                if adjusted[j] == best and relevance[j] < lowest:
                    lowest = relevance[j]
                    pick = j
        picks[n_picks] = pick
        n_picks += 1
        adjusted[pick] = -np.inf
        for r in range(codes.shape[0]):
            code = codes[r, pick]
            if code != empties[r]:
                weight = weights[r]
                for j in range(n):
                    if codes[r, j] == code:
                        adjusted[j] -= weight
    for i in range(n):  # NaN and -inf come last, in input order
        if n_picks == k:
            break
        if not scores[i] > -np.inf:
            picks[n_picks] = i
            n_picks += 1
    return picks[:n_picks]


def diversity_order(
    scores: np.ndarray, codes: np.ndarray, empties: np.ndarray, weights: np.ndarray, k: int
) -> np.ndarray:
    """Positions of the first ``k`` greedy maximal-marginal-relevance picks.

    Relevance is ``(score - low) / spread`` over the finite scores (spread 1
    when they are all equal); NaN and -inf scores are never picked on
    merit and come last, in input order. Every pick subtracts rule ``r``'s
    ``weights[r]`` from each candidate sharing its value ``codes[r]``
    (unless the value is ``empties[r]``: missing); the pick is the arg-max
    of the adjusted values, a penalised tie going to the lower relevance,
    then to the earlier candidate.
    """
    return diversity_order_kernel(
        np.ascontiguousarray(scores, dtype=np.float64),
        np.ascontiguousarray(codes, dtype=np.int64),
        np.ascontiguousarray(empties, dtype=np.int64),
        np.ascontiguousarray(weights, dtype=np.float64),
        max(int(k), 0),
    )


def warm_up() -> None:
    """Compile (or load from numba's cache) the loop now, not on the first request."""
    diversity_order(np.zeros(2), np.zeros((1, 2), dtype=np.int64), np.zeros(1), np.ones(1), 1)
