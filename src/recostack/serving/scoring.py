"""Scoring with business rules: one model's compiled answers under one rule set.

:class:`RuledScorer` applies the filters as a mask before the top-k cut (so
an answer is still ``count`` long when enough items pass, backfilling from
popularity when the model allows it), removes the user's rated items when
asked, and reranks for diversity over a wider pool of the model's own
candidates (:func:`~recostack.rules.candidate_pool_size`), popular items
filling only what the reranked list lacks. The rules are compiled once per
scorer (:func:`~recostack.rules.rule_plan`); a request makes one call into
compiled code (:mod:`recostack.serving.ruled_kernel`). With no rule at all
it answers as :meth:`TrainedModel.score_item` / :meth:`TrainedModel.score_history`.
No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recostack.algorithms.item_item import ScoredItems
from recostack.rules import RuleSet, candidate_pool_size, rule_plan
from recostack.serving.ruled_kernel import PlanAnswers
from recostack.training.trained_model import TrainedModel, UsageEventLike

__all__ = ["RuledScorer", "user_known_items"]


def user_known_items(
    model: TrainedModel, user_id: str | None, events: Sequence[UsageEventLike] = ()
) -> np.ndarray:
    """Item indices the user is known to have used: stored history plus events."""
    stored, _ = model.user_history(user_id)
    if not events:
        return stored
    found = model.items.indices([e.item_id for e in events])
    return np.unique(np.concatenate([stored, found[found >= 0]]))


class RuledScorer:
    """A model's answers under one rule set (read-only once built: shared by requests).

    ``allowed`` given to a call is one more mask over all items (a
    customer's whitelist), ANDed with the rules' filters for that call.
    """

    __slots__ = ("_answers", "_exclude_rated", "_seed_out", "model", "plan")

    def __init__(self, model: TrainedModel, rules: RuleSet) -> None:
        self.model = model
        self.plan = rule_plan(rules.filters, rules.reranking, model.item_properties)
        self._exclude_rated = rules.exclude_rated_items
        self._seed_out = not model.options.allow_seed_items
        self._answers = self._answers_under(self.plan.packed)

    def _answers_under(self, mask: np.ndarray | None) -> PlanAnswers:
        return PlanAnswers(
            self.model.item_item,
            self.plan,
            allowed=mask,
            backfill=self.model.options.enable_backfilling,
            seed_out=self._seed_out,
        )

    def _with(self, allowed: np.ndarray | None) -> PlanAnswers:
        if allowed is None:
            return self._answers
        filters = self.plan.allowed
        return self._answers_under(allowed if filters is None else filters & allowed)

    def eligible(
        self,
        allowed: np.ndarray | None,
        *,
        user_id: str | None = None,
        events: Sequence[UsageEventLike] = (),
        item_id: str | None = None,
    ) -> np.ndarray:
        """The items an answer of this scorer may hold (filters, ``allowed``, rated items
        when excluded, the seed item or history when seeds are out), as a mask: what item
        exploration may add."""
        model = self.model
        mask = np.ones(model.n_items, dtype=bool)
        if self.plan.allowed is not None:
            mask &= self.plan.allowed
        if allowed is not None:
            mask &= allowed
        if self._exclude_rated:
            mask[user_known_items(model, user_id, events)] = False
        if self._seed_out:
            if item_id is not None:
                seed = model.items.index(item_id)
                if seed is not None:
                    mask[seed] = False
            else:
                mask[model.event_affinities(events, user_id)[0]] = False
        return mask

    def _pool(self, count: int) -> int:
        return candidate_pool_size(count, self.plan.n_reranking)

    def item(
        self,
        item_id: str,
        count: int,
        *,
        user_id: str | None = None,
        events: Sequence[UsageEventLike] = (),
        allowed: np.ndarray | None = None,
    ) -> ScoredItems:
        """The answer next to ``item_id`` (an unknown item: fillers only, if allowed);
        ``events`` count only as rated items."""
        model = self.model
        excluded = user_known_items(model, user_id, events) if self._exclude_rated else None
        row = model.items.index(item_id)
        items, scores = self._with(allowed).item(
            -1 if row is None else row, self._pool(count), count, excluded
        )
        return ScoredItems(items, scores)

    def history(
        self,
        events: Sequence[UsageEventLike],
        count: int,
        *,
        user_id: str | None = None,
        allowed: np.ndarray | None = None,
    ) -> ScoredItems:
        """The answer for ``events`` and the user's stored history."""
        model = self.model
        excluded = user_known_items(model, user_id, events) if self._exclude_rated else None
        items, affinities = model.event_affinities(events, user_id)
        if self._seed_out and items.size:
            excluded = (
                items
                if excluded is None or not excluded.size
                else np.concatenate([excluded, items])
            )
        found, scores = self._with(allowed).history(
            np.ascontiguousarray(items, dtype=np.int64),
            np.ascontiguousarray(affinities, dtype=np.float32),
            self._pool(count),
            count,
            excluded,
        )
        return ScoredItems(found, scores)
