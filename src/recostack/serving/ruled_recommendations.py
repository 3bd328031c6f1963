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

__all__ = [
    "RuledAnswer",
    "RuledScorer",
    "recommend_with_rules",
    "ruled_scorer",
    "score_with_rules",
    "user_known_items",
]


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


class RuledScorer:
    """One model's compiled answers under one set of resolved rules.

    The rules' plan, its mask and the model's arrays are gathered once
    (:class:`~recostack.serving.ruled_kernel.PlanAnswers`): a request then
    looks up its seed or history and its exclusions, and makes one call
    into compiled code. Kept per model and rules by :func:`ruled_scorer`;
    built per request when another mask (a whitelist) is ANDed in.
    """

    __slots__ = ("_answers", "_exclude_rated", "_n_reranking", "_seeds_out", "rules")

    def __init__(
        self, model: TrainedModel, rules: ResolvedRules, allowed: np.ndarray | None = None
    ) -> None:
        plan = rule_plan(rules.filters, rules.reranking, model.item_properties)
        if allowed is None:
            mask = plan.packed
        else:
            mask = allowed if plan.allowed is None else plan.allowed & allowed
        options = model.options
        self.rules = rules
        self._seeds_out = not options.allow_seed_items
        self._answers = _kernel().PlanAnswers(
            model.item_item,
            plan,
            allowed=mask,
            backfill=options.enable_backfilling,
            seed_out=self._seeds_out,
        )
        self._n_reranking = plan.n_reranking
        self._exclude_rated = rules.exclude_rated_items

    def item(
        self,
        model: TrainedModel,
        item_id: str,
        count: int,
        user_id: str | None = None,
        events: Sequence[UsageEvent] = (),
    ) -> ScoredItems:
        """The answer next to ``item_id`` (an unknown item: fillers only, if allowed);
        ``events`` count only as rated items."""
        count = max(count, 0)
        excluded = user_known_items(model, user_id, events) if self._exclude_rated else None
        row = model.items.index(item_id)
        items, scores = self._answers.item(
            -1 if row is None else row,
            candidate_pool_size(count, self._n_reranking),
            count,
            excluded,
        )
        return ScoredItems(items, scores)

    def history(
        self,
        model: TrainedModel,
        events: Sequence[UsageEvent],
        count: int,
        user_id: str | None = None,
    ) -> ScoredItems:
        """The answer for ``events`` and the user's stored history."""
        count = max(count, 0)
        excluded = user_known_items(model, user_id, events) if self._exclude_rated else None
        items, affinities = model.event_affinities(events, user_id)
        if self._seeds_out and items.size:
            excluded = _seeds_out(excluded, items)
        found, scores = self._answers.history(
            np.ascontiguousarray(items, dtype=np.int64),
            np.ascontiguousarray(affinities, dtype=np.float32),
            candidate_pool_size(count, self._n_reranking),
            count,
            excluded,
        )
        return ScoredItems(found, scores)


#: scorers kept per model (beyond this many, the model's memo starts over)
MAX_SCORERS = 1024


def ruled_scorer(model: TrainedModel, rules: ResolvedRules) -> RuledScorer:
    """The model's scorer for ``rules``, built on first use.

    Kept in the model's :attr:`~recostack.training.trained_model.TrainedModel.serving_memo`
    by the identity of ``rules`` (resolvers hand out the same object for the
    same rules); the entry holds ``rules`` itself, so that identity cannot be
    reused by another object while the entry lives.
    """
    memo = model.serving_memo
    key = ("scorer", id(rules))
    scorer: RuledScorer | None = memo.get(key)
    if scorer is None or scorer.rules is not rules:
        scorer = RuledScorer(model, rules)
        if len(memo) >= MAX_SCORERS:
            memo.clear()
        memo[key] = scorer
    return scorer


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
    call (:mod:`recostack.serving.ruled_kernel`), through the model's
    :func:`ruled_scorer` (a scorer of its own with ``allowed``).
    """
    scorer = ruled_scorer(model, rules) if allowed is None else RuledScorer(model, rules, allowed)
    if item_id is None:
        return scorer.history(model, events, count, user_id)
    return scorer.item(model, item_id, count, user_id, events)


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
