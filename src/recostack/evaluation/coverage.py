"""Catalog coverage: the share of the catalog that appears in any recommendation.

``coverage = |{items recommended to anyone in the top k}| / n_items``, a
ratio in ``[0, 1]`` (the same unit as the training statistics'
``catalogCoverage``). Padding (``-1``) is ignored. Coverage needs no ground
truth: pass only the rows of the users to count (the evaluation report
passes the users with at least one relevant test item).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from recostack.errors import Invalid
from recostack.evaluation._hits import check_k, check_recs

__all__ = ["measure", "recommended_items"]


def recommended_items(recs: npt.ArrayLike, k: int | None = None) -> npt.NDArray[np.int64]:
    """The distinct item indices in the top ``k`` columns of ``recs`` (all when None), sorted."""
    top = check_recs(recs)
    if k is not None:
        top = top[:, : check_k(k)]
    items = top[top >= 0]
    if items.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.bincount(items)).astype(np.int64)


def measure(recs: npt.ArrayLike, n_items: int, k: int | None = None) -> float:
    """Catalog coverage of the top ``k`` recommendations (all columns when None).

    >>> import numpy as np
    >>> measure(np.array([[0, 1], [1, -1]]), n_items=4)  # {0, 1} of 4 items
    0.5
    """
    if isinstance(n_items, bool) or not isinstance(n_items, int | np.integer) or n_items < 1:
        raise Invalid(f"n_items must be a positive integer, got {n_items!r}", field="n_items")
    items = recommended_items(recs, k)
    if items.size and items[-1] >= n_items:
        raise Invalid(
            f"recs holds item {int(items[-1])} but the catalog has {n_items} items",
            field="recs",
        )
    return items.size / int(n_items)
