"""Reranking ``property:diversity:weight``: greedy maximal-marginal-relevance.

Given candidates best first (item indices and their model scores), the list is
rebuilt one pick at a time. At each step the pick is the remaining candidate
``i`` maximising

    adjusted(i) = (score(i) - min(score)) / spread  -  Σ_r weight_r * count_r(i)

where ``count_r(i)`` is how many already-picked items have the same value of
rule ``r``'s property as ``i`` (a missing value, ``""``, is never counted as
shared), and ``spread = max(score) - min(score)`` over the candidates' finite
scores (1 when they are all equal): relevance is rescaled to [0, 1], which
makes a weight independent of the model's score scale. A tie goes to the
less penalised candidate (so the one with the lower score: diversity wins
ties), then to the earlier one. So:

- weight 0 changes nothing (the input order is returned);
- weight 0.5: an item is passed over for one whose value is not yet shown if
  its score is less than half the candidates' spread above it;
- weight ≥ 1: an unseen value always wins over a repeated one, so values
  interleave (round-robin, each value's items in score order).

NaN scores count as -inf; candidates at -inf come last, in input order.

Several rules compose: their penalties add up, in the order given (the order
only matters for reporting; the sum is symmetric). The returned scores are the
model's, unchanged (same dtype), so they need not be decreasing after
reranking.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import NamedTuple

import numpy as np

from recostack.errors import Invalid, Unprocessable
from recostack.rules.properties import ItemProperties

__all__ = [
    "RerankRule",
    "candidate_pool_size",
    "check_rerank_rules",
    "parse_reranking",
    "rerank",
]

RERANK_OPS: tuple[str, ...] = ("diversity",)


@dataclass(frozen=True, slots=True)
class RerankRule:
    """One parsed rule ``property:diversity:weight``."""

    text: str
    property: str
    op: str
    weight: float


def _invalid(text: str, problem: str, error: type[Invalid] = Invalid) -> Invalid:
    return error(f"reranking {text!r}: {problem}", field="reranking", detail={"reranking": text})


@lru_cache(maxsize=1024)
def parse_reranking(text: str) -> RerankRule:
    """Parse ``property:diversity:weight``; raise :class:`Invalid` (``field="reranking"``)."""
    if not isinstance(text, str):
        raise Invalid(f"reranking {text!r}: must be a string", field="reranking")
    parts = text.split(":")
    if len(parts) != 3:
        raise _invalid(text, "expected property:diversity:weight")
    prop, op, raw_weight = parts
    if not prop:
        raise _invalid(text, "the property name is missing")
    if op not in RERANK_OPS:
        raise _invalid(text, f"unknown op {op!r} (ops: {', '.join(RERANK_OPS)})")
    try:
        weight = float(raw_weight)
    except ValueError:
        raise _invalid(text, f"weight {raw_weight!r} is not a number") from None
    if not math.isfinite(weight) or weight < 0:
        raise _invalid(text, f"weight {raw_weight!r} must be a finite number ≥ 0")
    return RerankRule(text, prop, op, weight)


def check_rerank_rules(rules: Iterable[str], props: ItemProperties) -> list[RerankRule]:
    """Parse ``rules``; :class:`Invalid` (``field="reranking"``) if one is malformed or
    names a property the catalog does not have."""
    parsed = [parse_reranking(text) for text in rules]
    for rule in parsed:
        if rule.property not in props:
            known = ", ".join(sorted(props.names)) or "none"
            problem = f"unknown property {rule.property!r} (properties: {known})"
            raise _invalid(rule.text, problem, Unprocessable)
    return parsed


def candidate_pool_size(k: int, n_rules: int) -> int:
    """How many candidates to ask the model for to return ``k`` items.

    ``k`` with no reranking rule; else 5×k, at least 20 and at most 500 (but
    never fewer than ``k``): five candidates per place is enough for diversity
    to have something to pick, and the reranking cost grows with the pool
    (for ``k`` = 10: 50 candidates, not 100, halves what rules add to a
    request; ``bench/rules.py``).
    """
    if n_rules == 0:
        return k
    return max(k, min(max(5 * k, 20), 500))


def rerank(
    items: np.ndarray,
    scores: np.ndarray,
    rules: Iterable[str],
    props: ItemProperties,
    k: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rerank candidates (best first) by ``rules``; return the first ``k`` (items, scores)."""
    items = np.asarray(items, dtype=np.intp)
    scores = np.asarray(scores)
    if scores.dtype.kind != "f":
        scores = scores.astype(np.float64)
    if items.shape != scores.shape or items.ndim != 1:
        raise ValueError("items and scores must be 1-D arrays of the same length")
    k = len(items) if k is None else max(0, min(k, len(items)))
    active = [rule for rule in check_rerank_rules(rules, props) if rule.weight > 0]
    if not active or len(items) <= 1:
        return items[:k], scores[:k]
    groups = []
    for rule in active:
        column = props.column(rule.property)
        groups.append(_RuleCodes(column.codes[items], column.empty_code, rule.weight))
    order = _diversity_order(scores, groups, k)
    return items[order], scores[order]


class _RuleCodes(NamedTuple):
    """One active rule over the candidates: each one's value code, and the rule's weight."""

    codes: np.ndarray
    empty: int
    weight: float


@functools.cache
def _kernel() -> ModuleType:
    """The compiled loop, imported on first use (numba takes half a second to import)."""
    from recostack.rules import diversity_kernel

    return diversity_kernel


def _diversity_order(scores: np.ndarray, rules: list[_RuleCodes], k: int) -> np.ndarray:
    """Positions of the greedy picks (see the module docstring for the objective).

    ``adjusted`` starts as the relevance and loses ``weight`` on every
    candidate sharing the picked value, rule by rule; the pick is its
    arg-max (a picked candidate drops to -inf). The loop is compiled
    (:func:`recostack.rules.diversity_kernel.diversity_order`).
    """
    picks = _kernel().diversity_order(
        scores,
        rules[0].codes[None, :] if len(rules) == 1 else np.stack([rule.codes for rule in rules]),
        np.array([rule.empty for rule in rules]),
        np.array([rule.weight for rule in rules]),
        k,
    )
    return picks.astype(np.intp, copy=False)
