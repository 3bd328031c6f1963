"""The recommend hot path with business rules: mask, score, rerank, cut.

Given a loaded model and the rules resolved for a request, this applies
filters as a mask before the top-k cut (so an answer is still ``count``
long when enough items pass, backfilling from popularity when the model
allows it), removes the user's rated items when asked, and reranks for
diversity: over a wider pool of the model's own candidates
(:func:`~recostack.rules.candidate_pool_size`), popular items filling only
what the reranked list lacks. No I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from recostack.algorithms.item_item import ScoredItems
from recostack.rules import ResolvedRules, candidate_pool_size, rule_plan
from recostack.training.trained_model import Recommendation, TrainedModel, UsageEvent

__all__ = ["RuledAnswer", "recommend_with_rules", "score_with_rules", "user_known_items"]


@dataclass(frozen=True)
class RuledAnswer:
    recommendations: list[Recommendation]
    rules: ResolvedRules


def user_known_items(
    model: TrainedModel, user_id: str | None, events: Sequence[UsageEvent] = ()
) -> np.ndarray:
    """Item indices the user is known to have used: stored history plus events."""
    stored, _ = model.user_history(user_id)
    if not events:
        return stored
    ids = [e.item_id for e in events]
    found = model.items.indices(ids)
    return np.unique(np.concatenate([stored, found[found >= 0]]))


def _seeds_out(excluded: np.ndarray | None, seeds: np.ndarray) -> np.ndarray:
    """``excluded`` and ``seeds``, as one array."""
    if excluded is None or not excluded.size:
        return seeds
    return np.concatenate([excluded, seeds])


def score_with_rules(
    model: TrainedModel,
    rules: ResolvedRules,
    count: int,
    *,
    item_id: str | None = None,
    events: Sequence[UsageEvent] = (),
    user_id: str | None = None,
    allowed: np.ndarray | None = None,
) -> ScoredItems:
    """The scored answer of :func:`recommend_with_rules` (item indices).

    ``allowed`` is one more mask over all items (e.g. a per-customer
    whitelist), ANDed with the rules' filters. As
    :meth:`TrainedModel.score_item` / :meth:`TrainedModel.score_history`
    (seed items out unless the model allows them; only the head of a
    sorted row is read), but the model's candidates are reranked before
    any backfill: popular items fill only what the reranked list lacks.
    The rules are compiled once per model (:func:`~recostack.rules.rule_plan`),
    and the candidates, the reranking and the backfill are one compiled
    call (:mod:`recostack.serving.ruled_kernel`).
    """
    plan = rule_plan(rules.filters, rules.reranking, model.item_properties)
    if allowed is None:
        mask = plan.packed
    else:
        mask = allowed if plan.allowed is None else plan.allowed & allowed
    excluded = user_known_items(model, user_id, events) if rules.exclude_rated_items else None
    pool = candidate_pool_size(count, plan.n_reranking)
    seeds_out = not model.options.allow_seed_items
    backfill = model.options.enable_backfilling
    kernel = _kernel()
    if item_id is None:
        items, affinities = model.event_affinities(events, user_id)
        if seeds_out and items.size:
            excluded = _seeds_out(excluded, items)
        return kernel.history_answer(
            model.item_item,
            items,
            affinities,
            pool,
            count,
            plan,
            exclude=excluded,
            allowed=mask,
            backfill=backfill,
        )
    return kernel.item_answer(
        model.item_item,
        model.item_index(item_id),
        pool,
        count,
        plan,
        exclude=excluded,
        allowed=mask,
        backfill=backfill,
        seed_out=seeds_out,
    )


@functools.cache
def _kernel() -> ModuleType:
    """The compiled answer path, imported on first use (numba takes half a second)."""
    from recostack.serving import ruled_kernel

    return ruled_kernel


def recommend_with_rules(
    model: TrainedModel,
    rules: ResolvedRules,
    count: int,
    *,
    item_id: str | None = None,
    events: Sequence[UsageEvent] = (),
    user_id: str | None = None,
    allowed: np.ndarray | None = None,
) -> RuledAnswer:
    """Item-to-item when ``item_id`` is given, else personalized from events/history."""
    scored = score_with_rules(
        model, rules, count, item_id=item_id, events=events, user_id=user_id, allowed=allowed
    )
    return RuledAnswer(model.to_recommendations(scored), rules)
