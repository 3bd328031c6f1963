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

import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import NamedTuple

import numpy as np

from recostack.errors import Invalid
from recostack.rules.properties import ItemProperties

__all__ = ["RerankRule", "candidate_pool_size", "parse_reranking", "rerank"]

RERANK_OPS: tuple[str, ...] = ("diversity",)
#: pools up to this size are reranked over Python lists, larger ones with numpy
_SMALL_POOL = 160


@dataclass(frozen=True, slots=True)
class RerankRule:
    """One parsed rule ``property:diversity:weight``."""

    text: str
    property: str
    op: str
    weight: float


def _invalid(text: str, problem: str) -> Invalid:
    return Invalid(f"reranking {text!r}: {problem}", field="reranking", detail={"reranking": text})


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
    parsed = [parse_reranking(text) for text in rules]
    for rule in parsed:
        if rule.property not in props:
            known = ", ".join(sorted(props.names)) or "none"
            raise _invalid(rule.text, f"unknown property {rule.property!r} (properties: {known})")
    active = [rule for rule in parsed if rule.weight > 0]
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


def _diversity_order(scores: np.ndarray, rules: list[_RuleCodes], k: int) -> np.ndarray:
    """Positions of the greedy picks (see the module docstring for the objective).

    ``adjusted`` starts as the relevance and loses ``weight`` on every
    candidate sharing the picked value, rule by rule; the pick is its
    arg-max (a picked candidate drops to -inf). The same float operations in
    the same order either way: over plain lists for a pool of at most
    ``_SMALL_POOL`` candidates (numpy's per-call cost dominates there), one
    vectorised pass per pick beyond.
    """
    if len(scores) <= _SMALL_POOL:
        values: list[float] = scores.tolist()  # exact, float32 or float64
        best_first = all(map(operator.ge, values, islice(values, 1, None)))  # False with a NaN
        picks = _greedy_in_python(values, rules, k, best_first=best_first)
        return np.asarray(picks, dtype=np.intp)
    scores = scores.astype(np.float64, copy=False)
    ranked = scores > -np.inf  # False for NaN and -inf: those come last
    all_ranked = bool(ranked.all())
    low, high = (float(scores.min()), float(scores.max())) if all_ranked else (0.0, 0.0)
    if not (all_ranked and math.isfinite(high) and math.isfinite(low)):
        finite = np.isfinite(scores)
        low, high = (
            (float(scores[finite].min()), float(scores[finite].max()))
            if finite.any()
            else (0.0, 0.0)
        )
    relevance = (scores - low) / _spread(low, high)
    if not all_ranked:
        relevance[~ranked] = -np.inf
    picks = _greedy_vectorised(relevance, rules, k)
    if len(picks) < k:
        picks.extend(np.flatnonzero(~ranked)[: k - len(picks)].tolist())
    return np.asarray(picks, dtype=np.intp)


def _spread(low: float, high: float) -> float:
    spread = high - low
    return spread if spread > 0 and math.isfinite(spread) else 1.0


def _greedy_vectorised(relevance: np.ndarray, rules: list[_RuleCodes], k: int) -> list[int]:
    adjusted = relevance.copy()
    # Per rule: each candidate's code, and the candidates holding a code (built on first use).
    plan: list[tuple[np.ndarray, list[int], int, float, dict[int, np.ndarray]]] = [
        (rule.codes, rule.codes.tolist(), rule.empty, rule.weight, {}) for rule in rules
    ]
    picks: list[int] = []
    for _ in range(k):
        pick = int(adjusted.argmax())
        best = adjusted[pick]
        if best == -np.inf:  # only NaN / -inf candidates left
            break
        if best != relevance[pick]:  # penalised: a tie goes to the lower score, then earlier
            ties = (adjusted == best).nonzero()[0]
            if len(ties) > 1:
                pick = int(ties[np.argmin(relevance[ties])])
        picks.append(pick)
        adjusted[pick] = -np.inf
        for codes, code_list, empty, weight, holders in plan:
            code = code_list[pick]
            if code != empty:
                sharing = holders.get(code)
                if sharing is None:
                    sharing = holders[code] = (codes == code).nonzero()[0]
                adjusted[sharing] -= weight
    return picks


def _greedy_in_python(
    scores: list[float], rules: list[_RuleCodes], k: int, *, best_first: bool
) -> list[int]:
    """The greedy picks over lists: a lazy scan by decreasing relevance.

    A candidate's adjusted value never exceeds its relevance, so a scan in
    relevance order stops at the first candidate whose relevance is below
    the best adjusted value found: no later one can beat or tie it. Ties go
    as in the vectorised pass: to the lower relevance, then the earlier one
    (the scan order is stable). When the most relevant candidate left shares
    no value with the picks, it is the pick without a scan (the usual case).
    Relevance and penalties are computed lazily, for scanned candidates
    only, with the same float operations in the same order as the vectorised
    pass (one pick after the other, rule by rule).
    """
    minus_inf = -math.inf
    n = len(scores)
    if best_first:
        # The usual case (a top-k list). Relevance is a non-decreasing
        # function of the score, so this is also its stable order.
        tail = n
        while tail and scores[tail - 1] == minus_inf:
            tail -= 1
        order = list(range(tail))
        unranked = list(range(tail, n))
        low, high = (scores[tail - 1], scores[0]) if tail else (0.0, 0.0)
        ranked = scores[:tail] if not (math.isfinite(low) and math.isfinite(high)) else []
    else:
        unranked = [i for i, score in enumerate(scores) if not score > minus_inf]  # NaN, -inf
        ranked = [score for score in scores if score > minus_inf]
        low, high = (min(ranked), max(ranked)) if ranked else (0.0, 0.0)
        order = []
    if not (math.isfinite(low) and math.isfinite(high)):
        finite = [score for score in ranked if math.isfinite(score)]
        low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    spread = _spread(low, high)
    relevance = [minus_inf] * n  # minus_inf: not computed yet
    if not best_first:  # every relevance now, then a stable sort
        for i, score in enumerate(scores):
            if score > minus_inf:
                relevance[i] = (score - low) / spread
        order = sorted(
            (i for i in range(n) if relevance[i] > minus_inf),
            key=relevance.__getitem__,
            reverse=True,
        )
    if len(rules) == 1:
        rule = rules[0]
        chosen = _one_rule_picks(
            order, scores, relevance, low, spread, rule.codes.tolist(), rule.empty, rule.weight, k
        )
        return chosen + unranked[: k - len(chosen)]
    plan = [(rule.codes.tolist(), rule.empty, rule.weight) for rule in rules]
    shown: list[set[int]] = [set() for _ in plan]  # per rule, the values picked so far
    adjusted: list[float] = []  # relevance minus the penalties applied (made on first scan)
    applied: list[int] = []  # how many picks are subtracted from each candidate
    picks: list[int] = []
    for _ in range(min(k, len(order))):
        first = order[0]
        if any(
            codes[first] != empty and codes[first] in values
            for (codes, empty, _), values in zip(plan, shown, strict=True)
        ):
            if not adjusted:
                adjusted = list(relevance)
                applied = [0] * n
            pick, position = _scan(
                order, picks, plan, scores, relevance, adjusted, applied, low, spread
            )
        else:
            # The most relevant candidate left shares no value with the picks: its
            # adjusted value is its relevance, which no other candidate exceeds,
            # and it is the earliest of those that equal it.
            pick, position = first, 0
        picks.append(pick)
        del order[position]
        for (codes, _, _), values in zip(plan, shown, strict=True):
            values.add(codes[pick])
    return picks + unranked[: k - len(picks)]


def _one_rule_picks(
    order: list[int],
    scores: list[float],
    relevance: list[float],
    low: float,
    spread: float,
    codes: list[int],
    empty: int,
    weight: float,
    k: int,
) -> list[int]:
    """:func:`_greedy_in_python` for one rule: a candidate's penalty is ``weight``
    subtracted once per pick with its value, which a count per value gives."""
    minus_inf = -math.inf
    counts: dict[int, int] = {}  # picks per value (never the missing value)
    picks: list[int] = []
    for _ in range(min(k, len(order))):
        first = order[0]
        if codes[first] not in counts:
            pick, position = first, 0  # shares no value: the pick (see above)
        else:
            best = minus_inf
            pick = position = -1
            for j, i in enumerate(order):
                r = relevance[i]
                if r == minus_inf:  # first visit
                    r = relevance[i] = (scores[i] - low) / spread
                if r < best:
                    break
                shared = counts.get(codes[i])
                if shared:
                    value = r - weight
                    while shared > 1:
                        value -= weight
                        shared -= 1
                else:
                    value = r
                if value > best:
                    best, pick, position = value, i, j
                elif value == best and r < relevance[pick]:
                    pick, position = i, j
        picks.append(pick)
        del order[position]
        code = codes[pick]
        if code != empty:
            counts[code] = counts.get(code, 0) + 1
    return picks


def _scan(
    order: list[int],
    picks: list[int],
    plan: list[tuple[list[int], int, float]],
    scores: list[float],
    relevance: list[float],
    adjusted: list[float],
    applied: list[int],
    low: float,
    spread: float,
) -> tuple[int, int]:
    """The next pick and its position in ``order`` (see :func:`_greedy_in_python`)."""
    minus_inf = -math.inf
    best = minus_inf
    pick = position = -1
    n_picks = len(picks)
    for j, i in enumerate(order):
        r = relevance[i]
        if r == minus_inf:  # first visit (ranked candidates have a relevance above -inf)
            r = relevance[i] = adjusted[i] = (scores[i] - low) / spread
        if r < best:
            break
        value = adjusted[i]
        if applied[i] < n_picks:
            for p in picks[applied[i] :]:
                for codes, empty, weight in plan:
                    code = codes[i]
                    if code == codes[p] and code != empty:
                        value -= weight
            adjusted[i] = value
            applied[i] = n_picks
        if value > best:
            best, pick, position = value, i, j
        elif value == best and r < relevance[pick]:
            pick, position = i, j
    return pick, position
