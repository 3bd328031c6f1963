"""One compiled call per recommendation with business rules (numba).

A request with rules takes the model's best ``pool`` allowed candidates
(the filtered head of a sorted row, or the best of a weighted history
sum), reranks them for diversity down to ``count``, and backfills a short
answer with popular allowed items. Each step is a kernel of its own
(:mod:`recostack.algorithms.kernels`,
:mod:`recostack.rules.diversity_kernel`); here their compiled entry points
(``*_kernel``) are chained inside one compiled function, so a request pays
for one call into compiled code and no intermediate Python objects,
whatever the rules.

``plan`` holds the rules compiled against the model's catalog
(:class:`recostack.rules.RulePlan`): the filters' mask, and per active
reranking rule every item's value code, the code of "no value" and the
weight. ``exclude`` (sorted item indices) never appear, neither as
candidates nor as fillers.

These functions carry the code of the kernels they chain in their numba
cache entries: they compile through
:func:`recostack.algorithms.numba_cache.compiled`, whose cache directory
follows the sources of every kernel module, so an edit of any kernel is
seen on the next start.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from recostack.algorithms.item_item import ItemItemModel, ScoredItems
from recostack.algorithms.kernels import (
    best_of_history_kernel,
    fill_popular_kernel,
    head_of_row_kernel,
    pack_mask,
    sorted_contains,
    sorted_items,
)
from recostack.algorithms.numba_cache import compiled
from recostack.rules.diversity_kernel import diversity_order_kernel
from recostack.rules.plan import RulePlan

__all__ = ["PlanAnswers", "history_answer", "item_answer", "warm_up"]

_NO_MASK = np.zeros(0, dtype=np.bool_)
_NO_ORDER = np.zeros(0, dtype=np.int64)


@compiled
def _tail(
    items: np.ndarray,
    scores: np.ndarray,
    count: int,
    codes: np.ndarray,
    empties: np.ndarray,
    weights: np.ndarray,
    order: np.ndarray,
    popularity: np.ndarray,
    exclude: np.ndarray,
    allowed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Rerank the pool down to ``count`` (or cut it), then backfill from ``order``."""
    n = items.shape[0]
    n_rules = codes.shape[0]
    if n_rules and n > 1:
        pool_codes = np.empty((n_rules, n), dtype=np.int64)
        for r in range(n_rules):
            for i in range(n):
                pool_codes[r, i] = codes[r, items[i]]
        picks = diversity_order_kernel(
            scores.astype(np.float64), pool_codes, empties, weights, count
        )
        items = items[picks]
        scores = scores[picks]
    elif n > count:
        items = items[:count]
        scores = scores[:count]
    return fill_popular_kernel(items, scores, count, order, popularity, exclude, allowed)


@compiled
def _with_seed(exclude: np.ndarray, seed: int) -> np.ndarray:
    """``exclude`` (sorted) with ``seed`` inserted in order (if not in it already)."""
    if sorted_contains(exclude, seed):
        return exclude
    at = np.searchsorted(exclude, seed)
    out = np.empty(exclude.shape[0] + 1, dtype=np.int64)
    out[:at] = exclude[:at]
    out[at] = seed
    out[at + 1 :] = exclude[at:]
    return out


@compiled
def _item_answer(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    row: int,
    seed_out: bool,
    pool: int,
    count: int,
    codes: np.ndarray,
    empties: np.ndarray,
    weights: np.ndarray,
    order: np.ndarray,
    popularity: np.ndarray,
    exclude: np.ndarray,
    allowed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    if row >= 0:
        if seed_out:
            exclude = _with_seed(exclude, row)
        items, scores = head_of_row_kernel(indptr, indices, data, row, pool, exclude, allowed)
    else:
        items, scores = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    return _tail(items, scores, count, codes, empties, weights, order, popularity, exclude, allowed)


@compiled
def _history_answer(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    history: np.ndarray,
    affinities: np.ndarray,
    pool: int,
    count: int,
    sums: np.ndarray,
    state: np.ndarray,
    touched: np.ndarray,
    codes: np.ndarray,
    empties: np.ndarray,
    weights: np.ndarray,
    order: np.ndarray,
    popularity: np.ndarray,
    exclude: np.ndarray,
    allowed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    if history.shape[0]:
        items, scores = best_of_history_kernel(
            indptr, indices, data, history, affinities, pool, exclude, allowed, sums, state, touched
        )
    else:
        items, scores = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    return _tail(items, scores, count, codes, empties, weights, order, popularity, exclude, allowed)


class PlanAnswers:
    """The compiled answers of one model under one plan, their fixed arguments gathered once.

    What a request adds is its seed (or history), pool, count and
    exclusions: the model's arrays, the plan's and the mask are bound here,
    so a request that keeps this object (as the serving layer does per
    model and rules) pays for one call into compiled code and nothing
    else. ``allowed`` is the mask to apply (the plan's packed one, or its
    boolean one ANDed with another), ``None`` for all items; with
    ``seed_out``, an item's answer never holds the item itself.
    """

    __slots__ = (
        "_allowed",
        "_codes",
        "_data",
        "_empties",
        "_indices",
        "_indptr",
        "_model",
        "_order",
        "_popularity",
        "_seed_out",
        "_weights",
    )

    def __init__(
        self,
        model: ItemItemModel,
        plan: RulePlan,
        *,
        allowed: np.ndarray | None = None,
        backfill: bool = True,
        seed_out: bool = False,
    ) -> None:
        self._model = model
        self._indptr, self._indices, self._data = model.indptr, model.indices, model.data
        self._codes, self._empties, self._weights = plan.codes, plan.empties, plan.weights
        self._order = model.popular_order if backfill else _NO_ORDER
        self._popularity = model.popularity
        self._allowed = _NO_MASK if allowed is None else allowed
        self._seed_out = bool(seed_out)

    def item(
        self, item: int, pool: int, count: int, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Items and scores next to item index ``item`` (-1: unknown, fillers only).

        ``pool`` and ``count`` are ints ≥ 0; ``exclude`` item indices never to give.
        """
        return _item_answer(
            self._indptr,
            self._indices,
            self._data,
            item,
            self._seed_out,
            pool,
            count,
            self._codes,
            self._empties,
            self._weights,
            self._order,
            self._popularity,
            sorted_items(exclude),
            self._allowed,
        )

    def history(
        self,
        history: np.ndarray,
        affinities: np.ndarray,
        pool: int,
        count: int,
        exclude: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Items and scores for a history of item indices (int64) and affinities (float32)."""
        scratch = self._model.scratch()
        return _history_answer(
            self._indptr,
            self._indices,
            self._data,
            history,
            affinities,
            pool,
            count,
            scratch.sums,
            scratch.state,
            scratch.touched,
            self._codes,
            self._empties,
            self._weights,
            self._order,
            self._popularity,
            sorted_items(exclude),
            self._allowed,
        )


def item_answer(
    model: ItemItemModel,
    item: int | None,
    pool: int,
    count: int,
    plan: RulePlan,
    *,
    exclude: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    backfill: bool = True,
    seed_out: bool = False,
) -> ScoredItems:
    """The ruled answer next to ``item`` (an unknown item: ``None``, fillers only).

    ``allowed`` and ``seed_out`` as in :class:`PlanAnswers`; ``exclude`` are item indices.
    """
    answers = PlanAnswers(model, plan, allowed=allowed, backfill=backfill, seed_out=seed_out)
    items, scores = answers.item(
        -1 if item is None else int(item),
        max(int(pool), 0),
        max(int(count), 0),
        exclude,
    )
    return ScoredItems(items, scores)


def history_answer(
    model: ItemItemModel,
    history: np.ndarray,
    affinities: np.ndarray,
    pool: int,
    count: int,
    plan: RulePlan,
    *,
    exclude: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    backfill: bool = True,
) -> ScoredItems:
    """The ruled answer for a history of (item index, affinity) pairs."""
    answers = PlanAnswers(model, plan, allowed=allowed, backfill=backfill)
    items, scores = answers.history(
        np.ascontiguousarray(history, dtype=np.int64),
        np.ascontiguousarray(affinities, dtype=np.float32),
        max(int(pool), 0),
        max(int(count), 0),
        exclude,
    )
    return ScoredItems(items, scores)


def warm_up(
    model: ItemItemModel, code_types: Iterable[type[np.signedinteger[Any]]] = (np.int16,)
) -> None:
    """Compile (or load from numba's cache) both answers for these arrays' types now.

    Codes come as int16, or int32 for a property of more than 32767 values
    (:meth:`ItemProperties.rule_codes
    <recostack.rules.properties.ItemProperties.rule_codes>`): pass the types
    the model's catalog has (:meth:`ItemProperties.rule_code_types`); each
    costs some seconds to compile the first time. A mask may come
    packed (a plan's own, :attr:`RulePlan.packed`), boolean and writable (a
    plan's ANDed with a whitelist) or boolean and read-only (a whitelist
    alone).
    """
    if not model.n_items:
        return
    read_only = np.ones(model.n_items, dtype=np.bool_)
    read_only.flags.writeable = False
    masks = (None, np.ones(model.n_items, dtype=np.bool_), read_only, pack_mask(read_only))
    for dtype in code_types:
        plan = RulePlan(
            (),
            ("warm-up",),
            None,
            np.zeros((1, model.n_items), dtype=dtype),
            np.full(1, -1, dtype=np.int64),
            np.ones(1),
        )
        for allowed in masks:
            exclude = np.zeros(2, dtype=np.int64)
            item_answer(model, 0, 2, 1, plan, exclude=exclude, allowed=allowed, seed_out=True)
            history = np.zeros(1, dtype=np.int64)
            affinities = np.ones(1, dtype=np.float32)
            history_answer(model, history, affinities, 2, 1, plan, exclude=exclude, allowed=allowed)
