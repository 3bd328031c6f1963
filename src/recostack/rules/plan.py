"""Filters and reranking rules compiled against one catalog, for the compiled answer path.

:func:`rule_plan` (:meth:`RulePlan.build`) turns the ``filters`` and ``reranking`` texts a request
resolved to into a :class:`RulePlan`: the filters' mask over all items
(:func:`~recostack.rules.filters.filter_mask`), and the active reranking
rules as arrays (every item's value code per rule, each rule's "no value"
code and weight), which is what the greedy diversity loop reads
(:mod:`recostack.rules.diversity_kernel`). A serving layer builds a plan
once per model and rule set and keeps it with what it compiled.

Parsing and validation errors are those of the rules themselves
(:class:`~recostack.errors.Invalid` naming the filter or reranking rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recostack.rules.filters import filter_mask
from recostack.rules.properties import ItemProperties
from recostack.rules.reranking import check_rerank_rules

__all__ = ["RulePlan", "rule_plan"]


@dataclass(frozen=True, slots=True)
class RulePlan:
    """Rules ready to apply: the mask of the filters and the active reranking rules.

    ``allowed`` is ``None`` without filters, else the filters' read-only
    mask over all items, and ``packed`` the same mask as bits
    (item ``i`` is bit ``i % 8`` of byte ``i // 8``, as
    :func:`recostack.algorithms.kernels.pack_mask` packs it): what the
    compiled path reads, an eighth of the size. ``codes[r, i]`` is item ``i``'s value
    code for active reranking rule ``r`` (weight > 0; int16 or int32, C-contiguous:
    one rule's row is the catalog's own array,
    :meth:`~recostack.rules.properties.ItemProperties.rule_codes`),
    ``empties[r]`` the code of a missing value (-1 if none, int64),
    ``weights[r]`` its weight (float64); ``codes`` is of shape (0, 0) when no
    rule is active. ``n_reranking`` counts every reranking rule given (for
    the pool size). The arrays are shared by every request: never modify
    them (``codes``, ``empties`` and ``weights`` are writable all the same,
    as numba reads a read-only argument on a slower path).
    """

    filters: tuple[str, ...]
    reranking: tuple[str, ...]
    allowed: np.ndarray | None
    codes: np.ndarray
    empties: np.ndarray
    weights: np.ndarray
    packed: np.ndarray | None = None

    @property
    def n_reranking(self) -> int:
        return len(self.reranking)

    @classmethod
    def build(
        cls, filters: Sequence[str], reranking: Sequence[str], props: ItemProperties
    ) -> RulePlan:
        """Compile the rules (:class:`~recostack.errors.Invalid` if one is wrong)."""
        filters, reranking = tuple(filters), tuple(reranking)
        allowed = filter_mask(filters, props) if filters else None
        active = [rule for rule in check_rerank_rules(reranking, props) if rule.weight > 0]
        rows = [props.rule_codes(rule.property) for rule in active]
        if not rows:
            codes = np.zeros((0, 0), dtype=np.int16)
        else:
            codes = rows[0] if len(rows) == 1 else np.concatenate(rows)
        return cls(
            filters,
            reranking,
            allowed,
            codes,
            np.array([props.column(rule.property).empty_code for rule in active], dtype=np.int64),
            np.array([rule.weight for rule in active], dtype=np.float64),
            None if allowed is None else np.packbits(allowed, bitorder="little"),
        )


def rule_plan(filters: Sequence[str], reranking: Sequence[str], props: ItemProperties) -> RulePlan:
    """The plan of these rules over ``props`` (:meth:`RulePlan.build`)."""
    return RulePlan.build(filters, reranking, props)
