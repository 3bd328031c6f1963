"""The hit matrix every ranking metric is computed from.

Conventions shared by all metrics of this package:

* ``recs`` is a 2-D integer array of shape ``(n_users, width)``: row ``u``
  holds user ``u``'s recommended item indices in rank order, padded with
  ``-1`` where fewer items were recommended.
* ``truth`` is a sparse matrix of shape ``(n_users, n_items)`` whose stored
  nonzeros are user ``u``'s relevant test items (row ``u`` of ``truth`` goes
  with row ``u`` of ``recs``).
* Users whose truth row is empty are *skipped*: their per-user value is NaN
  and they do not count in any average.
* An item repeated in one row counts as a hit at its first (best) rank only,
  so no metric can exceed 1 because of a duplicate.

Everything is vectorised over users: the relevant items become sorted keys
``user * n_items + item`` and each recommendation is looked up with one
``np.searchsorted``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recostack.errors import Invalid

__all__ = [
    "RankedHits",
    "canonical_csr",
    "check_k",
    "check_recs",
    "mean_over_evaluated",
    "per_user_ratio",
    "ranked_hits",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RankedHits:
    """Which of the top-k recommendations of each user are relevant.

    ``hits[u, j]`` is True when the item at rank ``j + 1`` of user ``u`` is
    relevant; the width is ``min(k, recs.shape[1])``. ``n_relevant[u]`` is the
    size of user ``u``'s truth row.
    """

    hits: BoolArray
    n_relevant: IntArray
    k: int

    @property
    def evaluated(self) -> BoolArray:
        """Users with at least one relevant item: the ones every metric counts."""
        return self.n_relevant > 0

    def top(self, k: int) -> BoolArray:
        """The hit columns of ranks ``1..k`` (``k`` at most :attr:`k`)."""
        if k > self.k:
            raise Invalid(f"hits were computed up to k={self.k}, not {k}", field="k")
        return self.hits[:, :k]


def check_k(k: int) -> int:
    """``k`` as a plain positive ``int``, else :class:`Invalid`."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise Invalid(f"k must be a positive integer, got {k!r}", field="k")
    return int(k)


def check_recs(recs: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """``recs`` as a 2-D int64 array whose entries are ``-1`` or item indices."""
    arr = np.asarray(recs)
    if arr.ndim != 2:
        raise Invalid(f"recs must be 2-D (n_users, k), got shape {arr.shape}", field="recs")
    if arr.size == 0:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise Invalid(f"recs must hold integer item indices, got {arr.dtype}", field="recs")
    arr = arr.astype(np.int64, copy=False)
    if arr.min() < -1:
        raise Invalid("recs may only hold item indices and -1 padding", field="recs")
    return arr


def canonical_csr(matrix: Any, field: str = "truth") -> sp.csr_matrix:
    """A CSR matrix with sorted, unique indices and no explicit zeros.

    The input is not modified; it is copied only when it needs fixing.
    """
    if not sp.issparse(matrix):
        raise Invalid(f"{field} must be a scipy.sparse matrix", field=field)
    csr = sp.csr_matrix(matrix)
    if not csr.has_canonical_format or (csr.data == 0).any():
        csr = csr.copy()
        csr.sum_duplicates()
        csr.eliminate_zeros()
    return csr


def ranked_hits(recs: npt.ArrayLike, truth: Any, k: int) -> RankedHits:
    """Compute the hit matrix of the top ``k`` recommendations of every user."""
    k = check_k(k)
    top = check_recs(recs)[:, :k]
    csr = canonical_csr(truth)
    n_users, n_items = csr.shape
    if top.shape[0] != n_users:
        raise Invalid(
            f"recs has {top.shape[0]} rows but truth has {n_users}: one row per user",
            field="recs",
        )
    if top.size and top.max() >= n_items:
        raise Invalid(
            f"recs holds item {int(top.max())} but truth has only {n_items} items",
            field="recs",
        )
    if n_users * max(n_items, 1) >= np.iinfo(np.int64).max:  # pragma: no cover
        raise Invalid("too many users x items to index", field="truth")

    n_relevant = np.diff(csr.indptr).astype(np.int64)
    hits = np.zeros(top.shape, dtype=bool)
    if csr.nnz and top.size:
        rows = np.repeat(np.arange(n_users, dtype=np.int64), n_relevant)
        truth_keys = rows * n_items + csr.indices.astype(np.int64)  # ascending
        rec_keys = np.arange(n_users, dtype=np.int64)[:, None] * n_items + top
        pos = np.searchsorted(truth_keys, rec_keys)
        np.minimum(pos, truth_keys.size - 1, out=pos)
        hits = (truth_keys[pos] == rec_keys) & (top >= 0)
        if top.shape[1] > 1:
            hits &= ~_repeated(top)
    return RankedHits(hits=hits, n_relevant=n_relevant, k=k)


def _repeated(top: npt.NDArray[np.int64]) -> BoolArray:
    """True where an item already appeared at a better rank of the same row."""
    order = np.argsort(top, axis=1, kind="stable")
    ordered = np.take_along_axis(top, order, axis=1)
    repeat_sorted = np.zeros(top.shape, dtype=bool)
    repeat_sorted[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    repeat = np.empty_like(repeat_sorted)
    np.put_along_axis(repeat, order, repeat_sorted, axis=1)
    return repeat


def per_user_ratio(
    numerator: FloatArray, denominator: npt.ArrayLike, evaluated: BoolArray
) -> FloatArray:
    """``numerator / denominator`` for evaluated users, NaN for skipped ones."""
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=evaluated)
    return out


def mean_over_evaluated(values: FloatArray, evaluated: BoolArray) -> float:
    """Average of the per-user values of evaluated users (0.0 when there are none)."""
    if not evaluated.any():
        return 0.0
    return float(values[evaluated].mean())


#: a metric over a hit matrix: one value per user (NaN for skipped users)
HitsMetric = Callable[[RankedHits, int], FloatArray]


def per_user_of(metric: HitsMetric, recs: npt.ArrayLike, truth: Any, k: int) -> FloatArray:
    """``metric`` of every user (row of ``recs``); NaN where the truth row is empty."""
    return metric(ranked_hits(recs, truth, k), k)


def mean_of(metric: HitsMetric, recs: npt.ArrayLike, truth: Any, k: int) -> float:
    """The mean of ``metric`` over the users with at least one relevant item."""
    hits = ranked_hits(recs, truth, k)
    return mean_over_evaluated(metric(hits, k), hits.evaluated)
