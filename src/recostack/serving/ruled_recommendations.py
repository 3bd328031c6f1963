"""The recommend hot path with business rules: mask, score, rerank, cut.

Given a loaded model and the rules resolved for a request, this widens the
candidate list when reranking needs room, applies filters as a mask before
the top-k cut (so an answer is still ``count`` long when enough items
pass, backfilling from popularity when the model allows it), removes the
user's rated items when asked, and reranks for diversity. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recostack.algorithms.item_item import ScoredItems
from recostack.rules import ResolvedRules, candidate_pool_size, filter_mask, rerank
from recostack.training.trained_model import Recommendation, TrainedModel, UsageEvent

__all__ = ["RuledAnswer", "recommend_with_rules", "user_known_items"]


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


def recommend_with_rules(
    model: TrainedModel,
    rules: ResolvedRules,
    count: int,
    *,
    item_id: str | None = None,
    events: Sequence[UsageEvent] = (),
    user_id: str | None = None,
) -> RuledAnswer:
    """Item-to-item when ``item_id`` is given, else personalized from events/history."""
    allowed = filter_mask(rules.filters, model.item_properties) if rules.filters else None
    exclude = user_known_items(model, user_id, events) if rules.exclude_rated_items else None
    pool = candidate_pool_size(count, len(rules.reranking))
    scored: ScoredItems
    if item_id is not None:
        scored = model.score_item(model.item_index(item_id), pool, allowed=allowed, exclude=exclude)
    else:
        items, weights = model.event_affinities(events, user_id)
        scored = model.score_history(items, weights, pool, allowed=allowed, exclude=exclude)
    if rules.reranking and len(scored) > 1:
        items_out, scores_out = rerank(
            scored.items, scored.scores, rules.reranking, model.item_properties, k=count
        )
        scored = ScoredItems(items_out.astype(np.int64), scores_out.astype(np.float32))
    elif len(scored) > count:
        scored = ScoredItems(scored.items[:count], scored.scores[:count])
    return RuledAnswer(model.to_recommendations(scored), rules)
