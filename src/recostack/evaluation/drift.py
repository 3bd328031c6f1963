"""Drift of served answers against a model's training data: PSI, popularity groups, fillers.

Pure numpy, used by the realtime monitor:

- :func:`psi`: the population stability index of two distributions,
  ``Σ (a − e) · ln(a / e)`` over their bins (shares smoothed away from 0):
  below 0.1 is usually read as stable, above 0.25 as a large shift;
- :func:`popularity_groups`: items in ``n`` groups of equal size by training
  popularity, and the share of training interactions each group holds;
- :func:`is_backfilled`: whether an answer ends with popularity fillers, as
  the scoring kernels write them (a filler's score is
  ``base · popularity / top``, ``base`` half the lowest recommended score, 1
  for an answer of fillers only).

>>> round(psi([0.5, 0.5], [0.5, 0.5]), 6)
0.0
>>> round(psi([0.5, 0.5], [0.9, 0.1]), 4)
0.8789
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["is_backfilled", "popularity_groups", "psi"]

_EPS = 1e-4


def psi(expected: Sequence[float] | np.ndarray, actual: Sequence[float] | np.ndarray) -> float:
    """The population stability index of ``actual`` against ``expected`` (shares per bin)."""
    e = np.clip(np.asarray(expected, dtype=np.float64), _EPS, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), _EPS, None)
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


def popularity_groups(popularity: np.ndarray, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """``(group of each item, training share of each group)``: group 0 holds the least
    popular tenth of the items, group ``n - 1`` the most popular."""
    items = popularity.shape[0]
    order = np.argsort(popularity, kind="stable")
    groups = np.empty(items, dtype=np.int64)
    groups[order] = np.arange(items) * n // max(items, 1)
    mass = np.bincount(groups, weights=popularity.astype(np.float64), minlength=n)
    total = mass.sum()
    return groups, (mass / total if total > 0 else np.full(n, 1.0 / n))


def is_backfilled(
    items: np.ndarray, scores: np.ndarray, popularity: np.ndarray, rel_tol: float = 1e-3
) -> bool:
    """Whether the answer (item indices and scores, best first) ends with fillers."""
    if items.shape[0] == 0 or popularity.shape[0] == 0:
        return False
    top = float(popularity.max())
    if top <= 0:
        return False
    pops = popularity[items].astype(np.float64)
    values = scores.astype(np.float64)
    n = items.shape[0]
    # the longest tail whose score / popularity ratio is one constant
    last = n - 1
    if pops[last] <= 0:
        return False
    ratio = values[last] / pops[last]
    start = last
    while start > 0 and pops[start - 1] > 0:
        if abs(values[start - 1] / pops[start - 1] - ratio) > rel_tol * abs(ratio):
            break
        start -= 1
    head = values[:start]
    base = 1.0 if head.shape[0] == 0 else 0.5 * float(head.min())
    if abs(ratio * top - base) <= rel_tol * abs(base):
        return True
    # a head item that happens to fit the ratio too: fillers start later in the tail
    for cut in range(start + 1, n):
        base = 0.5 * float(values[:cut].min())
        if abs(ratio * top - base) <= rel_tol * abs(base):
            return True
    return False
