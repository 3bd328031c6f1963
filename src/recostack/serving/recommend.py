"""The one recommend pipeline: rules resolved, scored, answered.

Every recommend surface (the model API, ``/api/recommendation/...`` and
deployments) builds a :class:`RecommendRequest` and asks the
:class:`Recommender`:

1. the model: the one asked for, or the default (:class:`ServedModels`);
2. the rules: the request's options resolved against the current scenario
   snapshot (runtime params > runtime scenario > default scenario;
   :class:`~recostack.rules.Resolution`, kept per snapshot and options);
3. the scores: the model's compiled answers under those rules
   (:class:`~recostack.serving.scoring.RuledScorer`, kept per model and
   rule set), item-to-item when the request names an item, else from its
   events and the user's stored history;
4. item exploration, when the request asks for it (a deployment's, a
   campaign's or a batch job's ``itemExplorationConfig``): new items with
   little interaction data take some positions, marked with their
   propensity (:mod:`recostack.algorithms.exploration`);
5. the answer: item ids and scores, best first, with the rules that made it.

Deployments put their own steps in front (customer lookup, model selector,
prediction arguments, whitelist: :mod:`recostack.serving.deployments`) and
log the answer after it; they call :meth:`Recommender.answer` with the
model they selected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recostack.algorithms.exploration import ItemExploration, explore
from recostack.rules import ResolvedRules, RuleOptions
from recostack.serving.exploration_cache import ExplorationCache
from recostack.serving.models import ServedModels
from recostack.serving.rule_caches import ResolutionCache, ScorerCache
from recostack.serving.scenario_cache import ScenarioCache
from recostack.serving.scoring import user_known_items
from recostack.training.trained_model import TrainedModel, UsageEventLike

__all__ = ["DEFAULT_COUNT", "Answer", "RecommendRequest", "Recommender"]

DEFAULT_COUNT = 10


@dataclass(frozen=True, slots=True)
class RecommendRequest:
    """One recommend call, whichever surface it came through.

    ``options`` hold the recommendation type and the rule options;
    ``user_id`` is the user (stored history, rated items, A/B group), an
    anonymous request is put in an A/B group by ``session_id`` instead.
    """

    options: RuleOptions
    count: int = DEFAULT_COUNT
    item_id: str | None = None
    events: Sequence[UsageEventLike] = ()
    user_id: str | None = None
    session_id: str | None = None
    #: explore new items in this answer (``None``: no exploration)
    exploration: ItemExploration | None = None
    #: the seed of the exploration's draws (``None``: fresh randomness)
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    model_id: str
    item_ids: list[str]
    scores: list[float]
    rules: ResolvedRules
    #: per item, the propensity of an explored item (``None`` for the model's own);
    #: empty when the request did not explore
    propensities: tuple[float | None, ...] = ()


class Recommender:
    def __init__(
        self,
        models: ServedModels,
        scenarios: ScenarioCache,
        scorers: ScorerCache,
        resolutions: ResolutionCache | None = None,
        exploration: ExplorationCache | None = None,
    ) -> None:
        self.models = models
        self.scenarios = scenarios
        self.scorers = scorers
        self.resolutions = resolutions or ResolutionCache()
        self.exploration = exploration or ExplorationCache()

    async def recommend(self, request: RecommendRequest, model_id: str | None = None) -> Answer:
        """Answer ``request`` with the model ``model_id`` (``None``: the default model)."""
        canonical, model = await self.models.get(model_id)
        return self.answer(canonical, model, request)

    def answer(
        self,
        model_id: str,
        model: TrainedModel,
        request: RecommendRequest,
        *,
        allowed: np.ndarray | None = None,
    ) -> Answer:
        """Answer ``request`` with a loaded model (no I/O); ``allowed``: a whitelist mask."""
        resolution = self.resolutions.get(self.scenarios.current(), request.options)
        user_id = request.user_id
        n_ratings = (
            len(user_known_items(model, user_id, request.events))
            if resolution.counts_ratings
            else 0
        )
        rules = resolution.rules(user_id or request.session_id, n_ratings)
        scorer = self.scorers.get(model_id, model, rules.rule_set)
        if request.item_id is not None:
            scored = scorer.item(
                request.item_id,
                request.count,
                user_id=user_id,
                events=request.events,
                allowed=allowed,
            )
        else:
            scored = scorer.history(request.events, request.count, user_id=user_id, allowed=allowed)
        if request.exploration is not None:
            candidates = self.exploration.get(model_id, model, request.exploration)
            if len(candidates):
                eligible = scorer.eligible(
                    allowed, user_id=user_id, events=request.events, item_id=request.item_id
                )
                mixed = explore(
                    scored.items,
                    scored.scores,
                    request.count,
                    candidates,
                    request.exploration,
                    np.random.default_rng(request.seed),
                    eligible=eligible,
                )
                propensities = tuple(
                    float(p) if explored else None
                    for p, explored in zip(mixed.propensities, mixed.explored, strict=True)
                )
                ids: list[str] = model.items.ids[mixed.items].tolist()
                return Answer(model_id, ids, mixed.scores.tolist(), rules, propensities)
        item_ids: list[str] = model.items.ids[scored.items].tolist()
        return Answer(model_id, item_ids, scored.scores.tolist(), rules)
