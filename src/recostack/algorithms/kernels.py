"""Compiled scoring kernels (numba): the per-request hot loops of serving.

Three kernels: :func:`best_of_history` (personalized), :func:`head_of_row`
(item-to-item, under filters) and :func:`fill_popular` (backfilling a short
answer with popular items). Reranking's is in
:mod:`recostack.rules.diversity_kernel`; :mod:`recostack.serving.ruled_kernel`
composes them all for a request with business rules.

A personalized answer sums the similarity rows of a user's items, weighted
by their affinities, and keeps the best ``k`` of the sum. In numpy that is a
dozen array operations (gather, repeat, unique or a dense bincount, a
partition and a sort), each with its own allocation and call overhead,
which dominate when the history is 20 items of 100 neighbours. Here it is
one pass: the weighted entries are added into a dense per-thread scratch
vector (only the touched entries are visited and reset afterwards), and a
``k``-sized heap keeps the best.

The kernels keep the GIL: they run for microseconds, and releasing it on
every call would hand it to any busy thread (the prediction logger's
writer) for a whole switch interval before the request could go on.

Results are exactly those of the numpy formulation: products in float32,
sums in float64, scores compared as float32, ties broken by the smaller
item index, and only positive scores kept.

Each kernel has two entry points: ``name(...)`` for Python callers, which
converts its arguments and fills in defaults, and ``name_kernel(...)``, the
compiled function itself, for other compiled code (it can be called from
Python too): every argument given, in exactly the types its docstring
lists. The compiled functions here call only each other, so numba's own
cache, checked against this file, stays right for them; a compiled
function of another module that calls them compiles through
:func:`recostack.algorithms.numba_cache.compiled`.
"""

from __future__ import annotations

import threading
from typing import Any

import numba
import numpy as np
from numba import types
from numba.extending import overload

__all__ = [
    "Scratch",
    "best_of_history",
    "best_of_history_kernel",
    "fill_popular",
    "fill_popular_kernel",
    "head_of_row",
    "head_of_row_kernel",
    "is_allowed",
    "pack_mask",
    "sorted_contains",
    "sorted_items",
]


class Scratch(threading.local):
    """Per-thread dense work vectors for one catalog size (always left zeroed)."""

    def __init__(self, n_items: int) -> None:
        self.sums = np.zeros(n_items, dtype=np.float64)
        self.state = np.zeros(n_items, dtype=np.int8)  # 0 untouched, 1 candidate, 2 excluded
        self.touched = np.empty(n_items, dtype=np.int64)


def pack_mask(mask: np.ndarray) -> np.ndarray:
    """A boolean mask over items as bits (uint8, item ``i`` is bit ``i % 8`` of byte ``i // 8``).

    Every kernel takes either form for ``allowed``. The packed one is an
    eighth of the size: a filter's mask over 20k items is 2.5 kB, which
    stays in the CPU's caches from request to request, where the boolean
    one (20 kB, read at random positions) does not.
    """
    return np.packbits(np.asarray(mask, dtype=np.bool_), bitorder="little")


def is_allowed(mask: np.ndarray, item: int) -> bool:
    """Whether ``mask`` (boolean, or packed by :func:`pack_mask`) marks ``item``."""
    if mask.dtype == np.uint8:
        return bool((int(mask[item >> 3]) >> (item & 7)) & 1)
    return bool(mask[item])


@overload(is_allowed, inline="always")
def _is_allowed_compiled(mask: Any, item: Any) -> Any:
    if isinstance(mask, types.Array) and mask.dtype == types.uint8:

        def packed(mask: Any, item: Any) -> Any:  # annotated as the overload, numba checks
            return ((mask[item >> 3] >> (item & 7)) & 1) != 0

        return packed

    def flags(mask: Any, item: Any) -> Any:
        return bool(mask[item])

    return flags


@numba.njit(cache=True, inline="always")
def _worse(score_a: Any, item_a: Any, score_b: Any, item_b: Any) -> bool:
    return score_a < score_b or (score_a == score_b and item_a > item_b)


@numba.njit(cache=True, inline="always")
def _swap(scores: np.ndarray, items: np.ndarray, a: int, b: int) -> None:
    scores[a], scores[b] = scores[b], scores[a]
    items[a], items[b] = items[b], items[a]


@numba.njit(cache=True)
def _sift_down(scores: np.ndarray, items: np.ndarray, n: int, at: int) -> None:
    # min-heap by "worse": the root is the worst entry kept
    while True:
        child = 2 * at + 1
        if child >= n:
            return
        right = child + 1
        if right < n and _worse(scores[right], items[right], scores[child], items[child]):
            child = right
        if not _worse(scores[child], items[child], scores[at], items[at]):
            return
        _swap(scores, items, at, child)
        at = child


@numba.njit(cache=True)
def _sift_up(scores: np.ndarray, items: np.ndarray, at: int) -> None:
    while at > 0:
        parent = (at - 1) // 2
        if not _worse(scores[at], items[at], scores[parent], items[parent]):
            return
        _swap(scores, items, at, parent)
        at = parent


@numba.njit(cache=True)
def best_of_history_kernel(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    history: np.ndarray,
    weights: np.ndarray,
    k: int,
    exclude: np.ndarray,
    allowed: np.ndarray,
    sums: np.ndarray,
    state: np.ndarray,
    touched: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The compiled :func:`best_of_history`, all arguments given.

    ``history`` int64, ``weights`` float32 (one per history item), ``k`` ≥ 0,
    ``exclude`` int64 (any order), ``allowed`` a mask over all items (boolean
    or packed) or an empty array for all items; ``sums``, ``state`` and
    ``touched`` a :class:`Scratch`'s vectors, left zeroed on return.
    """
    for e in exclude:
        state[e] = 2
    n_touched = 0
    for h in range(history.shape[0]):
        row = history[h]
        w = np.float32(weights[h])
        for p in range(indptr[row], indptr[row + 1]):
            j = indices[p]
            s = state[j]
            if s == 2:
                continue
            if s == 0:
                state[j] = 1
                touched[n_touched] = j
                n_touched += 1
            sums[j] += np.float64(data[p] * w)
    heap_scores = np.empty(k, dtype=np.float32)
    heap_items = np.empty(k, dtype=np.int64)
    n = 0
    filtered = allowed.shape[0] > 0
    for t in range(n_touched):
        j = touched[t]
        score = np.float32(sums[j])
        sums[j] = 0.0
        state[j] = 0
        # the mask is read only for a candidate that would be kept: most lose against
        # the worst kept (predictably) before the (random) mask read
        if n == k:  # full
            if _worse(heap_scores[0], heap_items[0], score, j) and (
                not filtered or is_allowed(allowed, j)
            ):
                heap_scores[0] = score
                heap_items[0] = j
                _sift_down(heap_scores, heap_items, n, 0)
        elif score > 0 and (not filtered or is_allowed(allowed, j)):
            heap_scores[n] = score
            heap_items[n] = j
            _sift_up(heap_scores, heap_items, n)
            n += 1
    for e in exclude:
        state[e] = 0
    out_scores = np.empty(n, dtype=np.float32)
    out_items = np.empty(n, dtype=np.int64)
    for last in range(n - 1, -1, -1):  # pop the worst into the last free slot
        out_scores[last] = heap_scores[0]
        out_items[last] = heap_items[0]
        heap_scores[0] = heap_scores[last]
        heap_items[0] = heap_items[last]
        _sift_down(heap_scores, heap_items, last, 0)
    return out_items, out_scores


_NO_MASK = np.zeros(0, dtype=np.bool_)
_NO_ITEMS = np.zeros(0, dtype=np.int64)


def best_of_history(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    history: np.ndarray,
    weights: np.ndarray,
    k: int,
    scratch: Scratch,
    *,
    exclude: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The best ``k`` of Σ_h weights[h] · row(history[h]): (items, scores), best first.

    ``exclude`` items never appear; ``allowed`` (a mask over all items,
    boolean or packed by :func:`pack_mask`) keeps only the items it marks. Only positive sums count.
    """
    return best_of_history_kernel(
        indptr,
        indices,
        data,
        np.ascontiguousarray(history, dtype=np.int64),
        np.ascontiguousarray(weights, dtype=np.float32),
        max(int(k), 0),
        _NO_ITEMS if exclude is None else np.ascontiguousarray(exclude, dtype=np.int64),
        _NO_MASK if allowed is None else allowed,
        scratch.sums,
        scratch.state,
        scratch.touched,
    )


@numba.njit(cache=True, inline="always")
def sorted_contains(items: np.ndarray, item: Any) -> bool:
    """Whether sorted ``items`` hold ``item`` (a binary search)."""
    at = np.searchsorted(items, item)
    return at < items.shape[0] and items[at] == item


@numba.njit(cache=True)
def head_of_row_kernel(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    row: int,
    k: int,
    exclude: np.ndarray,
    allowed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The compiled :func:`head_of_row`, all arguments given.

    ``row`` an item index, ``k`` ≥ 0, ``exclude`` sorted int64
    (:func:`sorted_items`), ``allowed`` a mask over all items (boolean or
    packed) or an empty array for all items.
    """
    out_items = np.empty(k, dtype=np.int64)
    out_scores = np.empty(k, dtype=np.float32)
    n = 0
    filtered = allowed.shape[0] > 0
    n_excluded = exclude.shape[0]
    for p in range(indptr[row], indptr[row + 1]):
        if n == k:
            break
        score = data[p]
        if not score > 0:
            continue
        j = indices[p]
        if filtered and not is_allowed(allowed, j):
            continue
        if n_excluded and sorted_contains(exclude, j):
            continue
        out_items[n] = j
        out_scores[n] = score
        n += 1
    return out_items[:n], out_scores[:n]


def sorted_items(items: np.ndarray | None) -> np.ndarray:
    """Item indices as the kernels take an exclusion list: sorted int64 (``None``: empty)."""
    if items is None:
        return _NO_ITEMS
    if items.size <= 1 and items.dtype == np.int64:  # a seed: nothing to sort
        return items
    return np.sort(np.asarray(items, dtype=np.int64))


def head_of_row(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    row: int,
    k: int,
    *,
    exclude: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``k`` entries of a sorted row with a positive weight, not excluded, allowed.

    The row is read only as far as needed: a filter that rejects most items
    costs a longer read, never a second pass.
    """
    return head_of_row_kernel(
        indptr,
        indices,
        data,
        int(row),
        max(int(k), 0),
        sorted_items(exclude),
        _NO_MASK if allowed is None else allowed,
    )


@numba.njit(cache=True)
def fill_popular_kernel(
    head_items: np.ndarray,
    head_scores: np.ndarray,
    k: int,
    order: np.ndarray,
    popularity: np.ndarray,
    exclude: np.ndarray,
    allowed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The compiled :func:`fill_popular`, all arguments given.

    ``head_items`` int64 and ``head_scores`` float32 (best first), ``k`` ≥ 0,
    ``order`` int64, ``popularity`` float32, ``exclude`` sorted int64
    (:func:`sorted_items`), ``allowed`` a mask over all items (boolean or
    packed) or an empty array for all items.
    """
    n_head = head_items.shape[0]
    if n_head >= k or order.shape[0] == 0:
        return head_items, head_scores
    out_items = np.empty(k, dtype=np.int64)
    out_scores = np.empty(k, dtype=np.float32)
    base = np.float32(1.0)
    for i in range(n_head):
        out_items[i] = head_items[i]
        out_scores[i] = head_scores[i]
        if i == 0 or head_scores[i] < base:
            base = head_scores[i]
    if n_head:
        base = base * np.float32(0.5)
    top = popularity[order[0]]
    taken = np.sort(head_items)
    filtered = allowed.shape[0] > 0
    n_excluded = exclude.shape[0]
    n = n_head
    for j in order:
        if filtered and not is_allowed(allowed, j):
            continue
        if n_head and sorted_contains(taken, j):
            continue
        if n_excluded and sorted_contains(exclude, j):
            continue
        out_items[n] = j
        out_scores[n] = base * popularity[j] / top
        n += 1
        if n == k:
            break
    return out_items[:n], out_scores[:n]


def fill_popular(
    head_items: np.ndarray,
    head_scores: np.ndarray,
    k: int,
    order: np.ndarray,
    popularity: np.ndarray,
    *,
    exclude: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``head`` followed by the first items of ``order`` not in it, ``k`` in all.

    ``order`` lists the items most popular first; an ``exclude`` item and
    one the ``allowed`` mask does not mark are skipped. A filler's score is
    ``base * popularity / popularity[order[0]]`` with ``base`` half the
    lowest score of the head (1 when the head is empty), computed in
    float32, so a filler never outscores a recommendation.
    """
    return fill_popular_kernel(
        np.ascontiguousarray(head_items, dtype=np.int64),
        np.ascontiguousarray(head_scores, dtype=np.float32),
        max(int(k), 0),
        order,
        np.ascontiguousarray(popularity, dtype=np.float32),
        sorted_items(exclude),
        _NO_MASK if allowed is None else allowed,
    )
