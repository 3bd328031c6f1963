"""The item-item serving structure every algorithm produces.

An :class:`ItemItemModel` holds a sparse item × item weight matrix whose row
``i`` lists the items to recommend next to item ``i``, each row stored
sorted by descending weight, plus an item popularity vector for
backfilling. Item-to-item recommendations read the head of one row;
personalized recommendations sum the rows of a user's items weighted by
their affinities (a compiled kernel, :mod:`recostack.algorithms.kernels`).
Everything works on integer item indices; no I/O except :meth:`save` /
:meth:`load`.

Scoring is read-only (the kernel's scratch vectors are per thread), so one
loaded model serves many threads at once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from recostack.algorithms.kernels import Scratch

__all__ = ["ItemItemModel", "ScoredItems", "sorted_rows"]

#: exclusion lists up to this long are matched by comparisons, longer ones by np.isin
_FEW = 8


@functools.cache
def _kernels() -> ModuleType:
    """The compiled kernels, imported on first use: numba takes half a second to import,
    which commands that never score a request should not pay (and an import statement
    in a hot function costs microseconds on every call)."""
    from recostack.algorithms import kernels

    return kernels


@dataclass(frozen=True)
class ScoredItems:
    """Item indices with their scores: best first, or in item order when ``by_item``."""

    items: np.ndarray  # int64
    scores: np.ndarray  # float32
    by_item: bool = False

    def __len__(self) -> int:
        return int(self.items.shape[0])

    @classmethod
    def empty(cls) -> ScoredItems:
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))


def _descending_keys(values: np.ndarray) -> np.ndarray:
    """An int64 per float32 value, in the opposite order of the values (NaN-free input).

    The IEEE bits of a non-negative float order like the float; flipping the
    sign bit of those and every bit of the negative ones makes one unsigned
    key ordered like the value, whatever its sign. Subtracting from the top
    reverses it.
    """
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32).astype(np.int64)
    negative = bits >= 0x80000000
    ascending = np.where(negative, 0xFFFFFFFF - bits, bits | 0x80000000)
    return 0xFFFFFFFF - ascending


def sorted_rows(matrix: sp.csr_matrix, max_per_row: int = 0) -> sp.csr_matrix:
    """Reorder each row of ``matrix`` by descending value; keep ``max_per_row`` (0: all).

    Values may be negative (EASE's weights): a row lists its positive
    weights first, then its negative ones, most negative last; pruning keeps
    the ``max_per_row`` largest. Vectorised: one sort of an int64 key
    ``row << 32 | descending_key(value)``.
    """
    matrix = matrix.tocsr()
    matrix.eliminate_zeros()
    n_rows = matrix.shape[0]
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), counts)
    data = np.ascontiguousarray(matrix.data, dtype=np.float32)
    indices = matrix.indices.astype(np.int32, copy=False)
    indptr = matrix.indptr.astype(np.int64)
    order = np.argsort((rows << 32) | _descending_keys(data))  # unique but for row ties
    if max_per_row > 0 and counts.size and counts.max() > max_per_row:
        rank = np.arange(order.size, dtype=np.int64) - np.repeat(indptr[:-1], counts)
        order = order[rank < max_per_row]
        counts = np.minimum(counts, max_per_row)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    out = sp.csr_matrix((data[order], indices[order], indptr), shape=matrix.shape)
    out.has_sorted_indices = False
    return out


class ItemItemModel:
    """Sparse item-item weights (rows sorted by weight) and popularity.

    ``popularity[i]`` is the item's training popularity (distinct users);
    ``popular_order`` lists items with popularity > 0, most popular first.
    """

    __slots__ = (
        "_scratch",
        "data",
        "indices",
        "indptr",
        "n_items",
        "popular_order",
        "popularity",
    )

    def __init__(
        self,
        indptr: np.ndarray,
        indices: np.ndarray,
        data: np.ndarray,
        popularity: np.ndarray,
    ) -> None:
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self.popularity = popularity
        self.n_items = int(popularity.shape[0])
        if indptr.shape[0] != self.n_items + 1:
            raise ValueError("indptr must have n_items + 1 entries")
        order = np.argsort(-popularity, kind="stable")
        self.popular_order = order[popularity[order] > 0].astype(np.int64)
        self._scratch: Scratch | None = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_similarity(
        cls,
        similarity: sp.csr_matrix,
        popularity: np.ndarray,
        *,
        max_neighbors: int = 0,
        presorted: bool = False,
    ) -> ItemItemModel:
        """Build from a weight matrix; ``presorted`` rows are already in weight order."""
        rows = similarity if presorted else sorted_rows(similarity, max_neighbors)
        return cls(
            rows.indptr.astype(np.int64),
            rows.indices.astype(np.int32),
            rows.data.astype(np.float32),
            np.asarray(popularity, dtype=np.float32),
        )

    def to_csr(self) -> sp.csr_matrix:
        """The weights as a scipy CSR matrix (columns unsorted within rows)."""
        m = sp.csr_matrix(
            (self.data, self.indices, self.indptr), shape=(self.n_items, self.n_items)
        )
        m.has_sorted_indices = False
        return m

    @property
    def nbytes(self) -> int:
        return int(
            self.indptr.nbytes + self.indices.nbytes + self.data.nbytes + self.popularity.nbytes
        )

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[0])

    # ---------------------------------------------------------------- scoring
    def neighbours(self, item: int, limit: int | None = None) -> ScoredItems:
        """Row ``item``, best first; only its first ``limit`` entries when given."""
        start, end = int(self.indptr[item]), int(self.indptr[item + 1])
        if limit is not None:
            end = min(end, start + limit)
        return ScoredItems(self.indices[start:end].astype(np.int64), self.data[start:end])

    def best_of_history(
        self,
        items: np.ndarray,
        weights: np.ndarray,
        k: int,
        *,
        exclude: np.ndarray | None = None,
        allowed: np.ndarray | None = None,
    ) -> ScoredItems:
        """The best ``k`` of Σ_i weight_i · row_i over a user's items, best first.

        Only positive sums, never an ``exclude`` item, only items the
        ``allowed`` mask marks; ties go to the smaller item index. No
        backfill (see :meth:`top_k`). One compiled pass
        (:mod:`recostack.algorithms.kernels`).
        """
        if items.size == 0 or k <= 0:
            return ScoredItems.empty()
        kernels = _kernels()
        top, scores = kernels.best_of_history(
            self.indptr,
            self.indices,
            self.data,
            items,
            weights,
            k,
            self.scratch(),
            exclude=exclude,
            allowed=allowed,
        )
        return ScoredItems(top, scores)

    def scratch(self) -> Scratch:
        """This thread's work vectors for the kernels (made on first use)."""
        scratch = self._scratch
        if scratch is None:
            scratch = self._scratch = _kernels().Scratch(self.n_items)
        return scratch

    def head_of_row(
        self,
        item: int,
        k: int,
        *,
        exclude: np.ndarray | None = None,
        allowed: np.ndarray | None = None,
    ) -> ScoredItems:
        """The best ``k`` neighbours of ``item`` with a positive weight, not excluded, allowed.

        Best first, in row order (the row is sorted); read only as far as
        needed. No backfill (see :meth:`top_k`).
        """
        top, scores = _kernels().head_of_row(
            self.indptr, self.indices, self.data, item, k, exclude=exclude, allowed=allowed
        )
        return ScoredItems(top, scores)

    def warm_up(self) -> None:
        """Compile (or load from numba's cache) the kernels for these arrays' types now.

        Call when a model is loaded for serving, so that the first request
        does not pay for compilation (up to a second, with the event loop
        blocked).
        """
        if self.n_items:
            self.best_of_history(np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.float32), 1)
            self.head_of_row(0, 1, exclude=np.zeros(1, dtype=np.int64))
            self.head_of_row(0, 1, allowed=np.ones(self.n_items, dtype=bool))
            self.backfill(ScoredItems.empty(), 1, exclude=np.zeros(2, dtype=np.int64))
            self.backfill(ScoredItems.empty(), 1, allowed=np.ones(self.n_items, dtype=bool))

    def top_k(
        self,
        candidates: ScoredItems,
        k: int,
        *,
        exclude: np.ndarray | None = None,
        allowed: np.ndarray | None = None,
        backfill: bool = False,
        presorted: bool = False,
    ) -> ScoredItems:
        """The best ``k`` candidates not in ``exclude`` and allowed by the mask.

        ``allowed`` is a boolean mask over all items (business-rule filters).
        With ``backfill``, popular items fill an answer shorter than ``k``;
        their scores are ``base * popularity / max_popularity`` with ``base``
        half the lowest real score (1 when there is none), so scores never
        increase down the list.
        """
        items, scores = candidates.items, candidates.scores
        keep = scores > 0
        if exclude is not None and exclude.size and items.size:
            if candidates.by_item:  # sorted items: binary search instead of a hash set
                pos = np.searchsorted(items, exclude)
                inside = pos < items.size
                pos, excluded = pos[inside], exclude[inside]
                keep[pos[items[pos] == excluded]] = False
            elif exclude.size <= _FEW:  # a seed or two: comparisons beat isin's sort
                for excluded in exclude.tolist():
                    keep &= items != excluded
            else:
                keep &= ~np.isin(items, exclude)
        if allowed is not None:
            keep &= allowed[items]
        if not keep.all():
            items, scores = items[keep], scores[keep]
        if items.size > k:
            if presorted:
                items, scores = items[:k], scores[:k]
            else:
                part = np.argpartition(-scores, k - 1)[:k]
                items, scores = items[part], scores[part]
                presorted = False
        if not presorted and items.size > 1:
            order = np.lexsort((items, -scores))
            items, scores = items[order], scores[order]
        if backfill and items.size < k:
            return self.backfill(ScoredItems(items, scores), k, exclude=exclude, allowed=allowed)
        return ScoredItems(items, scores)

    def backfill(
        self,
        head: ScoredItems,
        k: int,
        *,
        exclude: np.ndarray | None = None,
        allowed: np.ndarray | None = None,
    ) -> ScoredItems:
        """``head`` (best first), then the most popular items not in it, ``k`` in all.

        Never an ``exclude`` item, only items the ``allowed`` mask marks. A
        filler scores ``base * popularity / max_popularity`` with ``base``
        half the head's lowest score (1 for an empty head), so it never
        outscores a recommendation. One compiled pass over the popular order.
        """
        if len(head) >= k or not self.popular_order.size:
            return head
        items, scores = _kernels().fill_popular(
            head.items,
            head.scores,
            k,
            self.popular_order,
            self.popularity,
            exclude=exclude,
            allowed=allowed,
        )
        return ScoredItems(items, scores)

    def recommend_batch(
        self,
        histories: sp.csr_matrix,
        k: int,
        *,
        exclude_seen: bool = True,
        backfill: bool = False,
    ) -> np.ndarray:
        """Top-``k`` items for many users at once: (n_users, k) int array, -1 padded.

        ``histories`` is users × items affinities. Scores are computed in
        dense blocks of users (bounded memory), the similarity stays sparse.
        """
        n_users = histories.shape[0]
        out = np.full((n_users, k), -1, dtype=np.int64)
        weights = self.to_csr()
        block = max(1, min(n_users, 20_000_000 // max(1, self.n_items)))
        histories = histories.tocsr()
        for start in range(0, n_users, block):
            rows = histories[start : start + block]
            scores = np.asarray((rows @ weights).todense(), dtype=np.float32)
            scores[scores <= 0] = -np.inf
            if exclude_seen:
                r, c = rows.nonzero()
                scores[r, c] = -np.inf
            kk = min(k, self.n_items)
            part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
            part_scores = np.take_along_axis(scores, part, axis=1)
            order = np.argsort(-part_scores, axis=1, kind="stable")
            top = np.take_along_axis(part, order, axis=1)
            top_scores = np.take_along_axis(part_scores, order, axis=1)
            top[~np.isfinite(top_scores)] = -1
            out[start : start + rows.shape[0], :kk] = top
            if backfill:
                for i in np.flatnonzero((top < 0).any(axis=1)):
                    row = rows[i]
                    head = top[i][top[i] >= 0]
                    res = self.top_k(
                        ScoredItems(head, np.ones(head.size, dtype=np.float32)),
                        k,
                        exclude=row.indices.astype(np.int64) if exclude_seen else None,
                        backfill=True,
                        presorted=True,
                    )
                    out[start + i, : len(res)] = res.items
        return out

    # -------------------------------------------------------------- artifacts
    def save(self, directory: Path, prefix: str = "similarity") -> None:
        for name in ("indptr", "indices", "data"):
            np.save(directory / f"{prefix}_{name}.npy", getattr(self, name), allow_pickle=False)
        np.save(directory / "popularity.npy", self.popularity, allow_pickle=False)

    @classmethod
    def load(
        cls, directory: Path, prefix: str = "similarity", *, mmap: bool = True
    ) -> ItemItemModel:
        mode: Literal["r"] | None = "r" if mmap else None

        def arr(name: str) -> np.ndarray:
            # a plain ndarray view of the mapping: memmap's Python-level
            # __getitem__ / __array_finalize__ would cost on every slice
            return np.load(directory / name, mmap_mode=mode, allow_pickle=False).view(np.ndarray)

        return cls(
            arr(f"{prefix}_indptr.npy"),
            arr(f"{prefix}_indices.npy"),
            arr(f"{prefix}_data.npy"),
            np.load(directory / "popularity.npy", allow_pickle=False),
        )
