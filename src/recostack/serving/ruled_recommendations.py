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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recostack.algorithms.item_item import ScoredItems
from recostack.rules import ResolvedRules, candidate_pool_size, filter_mask, rerank
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


def _without(model: TrainedModel, allowed: np.ndarray | None, items: np.ndarray) -> np.ndarray:
    """``allowed`` (all items when ``None``) minus ``items``, as a new mask.

    Exclusions folded into the mask cost one copy of n_items booleans, less
    than looking candidates up in an exclusion list.
    """
    mask = np.ones(model.n_items, dtype=bool) if allowed is None else allowed.copy()
    mask[items] = False
    return mask


def _candidates(
    model: TrainedModel,
    size: int,
    *,
    item_id: str | None,
    events: Sequence[UsageEvent],
    user_id: str | None,
    allowed: np.ndarray | None,
    exclude: np.ndarray | None,
) -> tuple[ScoredItems, np.ndarray | None, np.ndarray | None]:
    """The best ``size`` of the model's candidates (no backfill), their mask, the seed.

    As :meth:`TrainedModel.score_item` / :meth:`TrainedModel.score_history`
    (seed items out unless the model allows them; only the head of a sorted
    row is read), with exclusions folded into the filter mask, and without
    backfilling: popular items only fill what the (reranked) list lacks,
    they are not reranked among the model's candidates. The seed item of an
    item-to-item request is skipped by the kernel rather than through a copy
    of the mask; it is returned for the backfill to keep out too.
    """
    weights = model.item_item
    seeds_allowed = model.options.allow_seed_items
    if exclude is not None and exclude.size:
        allowed = _without(model, allowed, exclude)
    if item_id is None:
        items, affinities = model.event_affinities(events, user_id)
        if not seeds_allowed and items.size:
            allowed = _without(model, allowed, items)
        return weights.best_of_history(items, affinities, size, allowed=allowed), allowed, None
    item = model.item_index(item_id)
    if item is None:
        return ScoredItems.empty(), allowed, None
    seed = None if seeds_allowed else np.array([item], dtype=np.int64)
    return weights.head_of_row(item, size, exclude=seed, allowed=allowed), allowed, seed


def _backfill(
    model: TrainedModel,
    head: ScoredItems,
    count: int,
    allowed: np.ndarray | None,
    also_excluded: np.ndarray | None = None,
) -> ScoredItems:
    """``head`` and then the most popular allowed items not in it, ``count`` in all.

    Scored as :class:`~recostack.algorithms.item_item.ItemItemModel` backfills
    (popularity scaled to half the lowest real score), so a filler never
    outscores a recommendation.
    """
    weights = model.item_item
    order = weights.popular_order
    need = count - len(head)
    if need <= 0 or not order.size:
        return head
    taken = head.items if also_excluded is None else np.concatenate([head.items, also_excluded])
    mask = _without(model, allowed, taken)
    chosen: list[np.ndarray] = []
    found = 0
    step = max(4 * need, 64)
    for start in range(0, order.size, step):
        block = order[start : start + step]
        block = block[mask[block]][: need - found]
        chosen.append(block)
        found += block.size
        if found >= need:
            break
    extra = np.concatenate(chosen)
    base = float(head.scores.min()) * 0.5 if len(head) else 1.0
    top = float(weights.popularity[order[0]])
    extra_scores = (base * weights.popularity[extra] / top).astype(np.float32)
    return ScoredItems(
        np.concatenate([head.items, extra]), np.concatenate([head.scores, extra_scores])
    )


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
    whitelist), ANDed with the rules' filters.
    """
    if rules.filters:
        filtered = filter_mask(rules.filters, model.item_properties)
        allowed = filtered if allowed is None else filtered & allowed
    exclude = user_known_items(model, user_id, events) if rules.exclude_rated_items else None
    pool, allowed, seed = _candidates(
        model,
        candidate_pool_size(count, len(rules.reranking)),
        item_id=item_id,
        events=events,
        user_id=user_id,
        allowed=allowed,
        exclude=exclude,
    )
    scored = pool
    if rules.reranking and len(pool) > 1:
        items_out, scores_out = rerank(
            pool.items, pool.scores, rules.reranking, model.item_properties, k=count
        )
        scored = ScoredItems(items_out, scores_out)
    elif len(pool) > count:
        scored = ScoredItems(pool.items[:count], pool.scores[:count])
    if len(scored) < count and model.options.enable_backfilling:
        scored = _backfill(model, scored, count, allowed, seed)
    return scored


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
