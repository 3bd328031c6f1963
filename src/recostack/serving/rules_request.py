"""One recommendation request with business rules, from options to answer.

:class:`RulesRequest` is what a request asked for (its recommendation type,
runtime rules, runtime scenario, who is asking); :func:`recommend_for_request`
resolves the rules against a scenario snapshot (runtime params > runtime
scenario > default scenario) and runs
:func:`~recostack.serving.ruled_recommendations.recommend_with_rules`.
No I/O: the snapshot and the model are already in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recostack.rules import (
    ConditionScenario,
    RecoType,
    ResolvedRules,
    RuntimeRules,
    Scenario,
    resolve_rules,
)
from recostack.serving.ruled_recommendations import (
    RuledAnswer,
    recommend_with_rules,
    user_known_items,
)
from recostack.store.scenario_repository import ScenarioSnapshot
from recostack.training.trained_model import TrainedModel, UsageEvent

__all__ = ["NO_RUNTIME_RULES", "RulesRequest", "recommend_for_request", "resolve_request_rules"]

NO_RUNTIME_RULES = RuntimeRules()


@dataclass(frozen=True, slots=True)
class RulesRequest:
    """The rule options of one request.

    ``user_id`` is the user (stored history, A/B group); an anonymous request
    is put in an A/B group by ``session_id`` instead.
    """

    reco_type: RecoType
    runtime: RuntimeRules = NO_RUNTIME_RULES
    scenario: str | None = None
    skip_default_scenario: bool = False
    user_id: str | None = None
    session_id: str | None = None

    @property
    def ab_key(self) -> str | None:
        return self.user_id or self.session_id

    def wants_rules(self, snapshot: ScenarioSnapshot) -> bool:
        """Whether any rule applies: a runtime option, or a default scenario to use."""
        runtime = self.runtime
        return bool(
            runtime.filters
            or runtime.reranking
            or runtime.exclude_rated_items is not None
            or self.scenario
            or (not self.skip_default_scenario and self.reco_type in snapshot.defaults)
        )


def _has_conditions(scenarios: Mapping[str, Scenario]) -> bool:
    return any(isinstance(s, ConditionScenario) for s in scenarios.values())


def resolve_request_rules(
    model: TrainedModel,
    snapshot: ScenarioSnapshot,
    request: RulesRequest,
    events: Sequence[UsageEvent] = (),
) -> ResolvedRules:
    """The rules for ``request`` (``NotFound`` for an unknown scenario)."""
    scenarios = snapshot.of_type(request.reco_type)
    n_ratings = (
        len(user_known_items(model, request.user_id, events)) if _has_conditions(scenarios) else 0
    )
    return resolve_rules(
        request.runtime,
        request.scenario,
        snapshot.defaults.get(request.reco_type),
        scenarios,
        user_id=request.ab_key,
        n_ratings=n_ratings,
        ab_tests=snapshot.probabilities,
        skip_default_scenario=request.skip_default_scenario,
    )


def recommend_for_request(
    model: TrainedModel,
    snapshot: ScenarioSnapshot,
    request: RulesRequest,
    count: int,
    *,
    item_id: str | None = None,
    events: Sequence[UsageEvent] = (),
) -> RuledAnswer:
    """Item-to-item when ``item_id`` is given, else from the events and the stored history."""
    rules = resolve_request_rules(model, snapshot, request, events)
    return recommend_with_rules(
        model, rules, count, item_id=item_id, events=events, user_id=request.user_id
    )
