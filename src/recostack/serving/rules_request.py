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
    UserFunction,
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


class _AbStep(NamedTuple):
    """An ab_test scenario on a route: the test, and the routes of groups A and B."""

    test_id: str
    probability_a: float
    a: _Route
    b: _Route


class _ConditionStep(NamedTuple):
    """A condition scenario on a route: the test on ``n_ratings``, then / else routes."""

    test: UserFunction
    then: _Route
    else_: _Route


#: where a scenario name leads: its case scenario's name, or a decision to take first
_Route = str | _AbStep | _ConditionStep


def _route(
    name: str, scenarios: Mapping[str, Scenario], probabilities: Mapping[str, float]
) -> _Route | None:
    """``name``'s decisions down to its case scenarios, aliases followed.

    ``None`` if any path from ``name`` is broken (a missing scenario or A/B
    test, a cycle, more than :data:`MAX_CHAIN_DEPTH` scenarios long): such
    requests go to ``resolve_rules``, which says why when a request meets
    the broken path. Each scenario is worked out once (with its height, the
    length of its longest path), so shared sub-chains cost nothing more.
    """
    built: dict[str, tuple[_Route, int] | None] = {}
    visiting: set[str] = set()

    def build(current: str, depth: int) -> tuple[_Route, int] | None:
        """The route from ``current``, reached after ``depth`` scenarios, and its height."""
        if current in built:
            found = built[current]
            return None if found is None or depth + found[1] > MAX_CHAIN_DEPTH else found
        if current in visiting or depth >= MAX_CHAIN_DEPTH:
            return None
        visiting.add(current)
        result = _step(current, depth)
        visiting.discard(current)
        built[current] = result
        return result

    def _step(current: str, depth: int) -> tuple[_Route, int] | None:
        scenario = scenarios.get(current)
        if scenario is None:
            return None
        if isinstance(scenario, CaseScenario):
            return current, 1
        if isinstance(scenario, AliasScenario):
            found = build(scenario.alias.scenario_name, depth + 1)
            return None if found is None else (found[0], found[1] + 1)
        if isinstance(scenario, ConditionScenario):
            condition = scenario.condition
            then = build(condition.then, depth + 1)
            else_ = build(condition.else_, depth + 1)
            if then is None or else_ is None:
                return None
            return _ConditionStep(condition.if_, then[0], else_[0]), max(then[1], else_[1]) + 1
        assert isinstance(scenario, AbTestScenario)
        ref = scenario.ab_test
        probability_a = probabilities.get(ref.id)
        a = build(ref.scenario_a, depth + 1)
        b = build(ref.scenario_b, depth + 1)
        if probability_a is None or a is None or b is None:
            return None
        return _AbStep(ref.id, probability_a, a[0], b[0]), max(a[1], b[1]) + 1

    found = build(name, 0)
    return None if found is None else found[0]


def _decisions(
    name: str,
    reco_type: RecoType,
    request: RulesRequest,
    n_ratings: int,
    snapshot: ScenarioSnapshot,
) -> tuple[object, ...] | None:
    """The A/B groups and condition outcomes met following ``name``, or ``None``.

    They are all that :func:`~recostack.rules.resolve_rules` takes from the
    user (its id and ``n_ratings``), so two requests with the same options and
    the same decisions resolve alike. ``None`` (a missing scenario or A/B test,
    a cycle, a chain too long) leaves the request to ``resolve_rules`` itself,
    which raises the right error. The route of each scenario is worked out
    once per snapshot (:func:`_route`).
    """
    memo = snapshot.memo
    route_key = ("route", reco_type, name)
    if route_key in memo:
        route = memo[route_key]
    else:
        route = memo[route_key] = _route(name, snapshot.of_type(reco_type), snapshot.probabilities)
    if route is None:
        return None
    decisions: list[object] = []
    key = request.ab_key
    while not isinstance(route, str):
        if isinstance(route, _AbStep):
            # as ab_group (probability_a was checked when the test was stored)
            if key is None or ab_bucket(route.test_id, key) < route.probability_a:
                decisions.append("A")
                route = route.a
            else:
                decisions.append("B")
                route = route.b
        else:
            holds = route.test.holds(n_ratings)
            decisions.append(holds)
            route = route.then if holds else route.else_
    return tuple(decisions)


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
            decisions = _decisions(name, reco_type, request, n_ratings, snapshot)
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
