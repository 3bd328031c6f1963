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
from typing import NamedTuple

from recostack.rules import (
    MAX_CHAIN_DEPTH,
    AbTestScenario,
    AliasScenario,
    CaseScenario,
    ConditionScenario,
    RecoType,
    ResolvedRules,
    RuntimeRules,
    Scenario,
    ab_bucket,
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


class RulesRequest(NamedTuple):
    """The rule options of one request (a tuple: made on every request).

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


#: resolved rules kept per snapshot (beyond this many, the memo starts over)
MAX_MEMO = 4096


def _decisions(
    name: str,
    scenarios: Mapping[str, Scenario],
    request: RulesRequest,
    n_ratings: int,
    snapshot: ScenarioSnapshot,
) -> tuple[object, ...] | None:
    """The A/B groups and condition outcomes met following ``name``, or ``None``.

    They are all that :func:`~recostack.rules.resolve_rules` takes from the
    user (its id and ``n_ratings``), so two requests with the same options and
    the same decisions resolve alike. ``None`` (a missing scenario or A/B test,
    a cycle, a chain too long) leaves the request to ``resolve_rules`` itself,
    which raises the right error.
    """
    decisions: list[object] = []
    current = name
    for _ in range(MAX_CHAIN_DEPTH):
        scenario = scenarios.get(current)
        if scenario is None:
            return None
        if isinstance(scenario, CaseScenario):
            return tuple(decisions)
        if isinstance(scenario, AliasScenario):
            current = scenario.alias.scenario_name
        elif isinstance(scenario, ConditionScenario):
            condition = scenario.condition
            holds = condition.if_.holds(n_ratings)
            decisions.append(holds)
            current = condition.then if holds else condition.else_
        else:
            assert isinstance(scenario, AbTestScenario)
            ref = scenario.ab_test
            probability_a = snapshot.probabilities.get(ref.id)
            if probability_a is None:
                return None
            key = request.ab_key
            # as ab_group (probability_a was checked when the test was stored)
            group = "A" if key is None or ab_bucket(ref.id, key) < probability_a else "B"
            decisions.append(group)
            current = ref.scenario_a if group == "A" else ref.scenario_b
    return None


def resolve_request_rules(
    model: TrainedModel,
    snapshot: ScenarioSnapshot,
    request: RulesRequest,
    events: Sequence[UsageEvent] = (),
) -> ResolvedRules:
    """The rules for ``request`` (``NotFound`` for an unknown scenario).

    Resolved once per snapshot for each combination of options and user
    decisions (:func:`_decisions`): the per-request work is following the
    chain and hashing the user into the A/B groups met.
    """
    reco_type = request.reco_type
    scenario = request.scenario
    default = snapshot.defaults.get(reco_type)
    if request.skip_default_scenario or default == scenario:
        default = None
    if not scenario and not default:  # the runtime rules alone
        return _runtime_only(request.runtime)
    scenarios = snapshot.of_type(reco_type)
    n_ratings = (
        len(user_known_items(model, request.user_id, events))
        if reco_type in snapshot.with_conditions
        else 0
    )
    parts: list[object] = [reco_type, request.runtime, scenario, default]
    for name in (scenario, default):
        if name:
            decisions = _decisions(name, scenarios, request, n_ratings, snapshot)
            if decisions is None:  # an error to report: no memo
                break
            parts.append(decisions)
    else:
        key = tuple(parts)
        found: ResolvedRules | None = snapshot.memo.get(key)
        if found is None:
            found = _resolve(request, snapshot, scenarios, scenario, default, n_ratings)
            if len(snapshot.memo) >= MAX_MEMO:
                snapshot.memo.clear()
            snapshot.memo[key] = found
        return found
    return _resolve(request, snapshot, scenarios, scenario, default, n_ratings)


#: the rules of runtime options alone, by options (beyond this many, the memo starts over)
_RUNTIME_ONLY: dict[RuntimeRules, ResolvedRules] = {}


def _runtime_only(runtime: RuntimeRules) -> ResolvedRules:
    found = _RUNTIME_ONLY.get(runtime)
    if found is None:
        found = resolve_rules(runtime, None, None, {}, user_id=None, n_ratings=0, ab_tests={})
        if len(_RUNTIME_ONLY) >= MAX_MEMO:
            _RUNTIME_ONLY.clear()
        _RUNTIME_ONLY[runtime] = found
    return found


def _resolve(
    request: RulesRequest,
    snapshot: ScenarioSnapshot,
    scenarios: Mapping[str, Scenario],
    scenario: str | None,
    default: str | None,
    n_ratings: int,
) -> ResolvedRules:
    return resolve_rules(
        request.runtime,
        scenario,
        default,
        scenarios,
        user_id=request.ab_key,
        n_ratings=n_ratings,
        ab_tests=snapshot.probabilities,
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
