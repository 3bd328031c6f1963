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
    AbHasher,
    AbTestScenario,
    AliasScenario,
    CaseScenario,
    ConditionScenario,
    RecoType,
    ResolvedRules,
    RuntimeRules,
    Scenario,
    UserFunction,
    resolve_rules,
)
from recostack.serving.ruled_recommendations import (
    RuledAnswer,
    recommend_with_rules,
    user_known_items,
)
from recostack.store.scenario_repository import ScenarioSnapshot
from recostack.training.trained_model import TrainedModel, UsageEvent

__all__ = [
    "NO_RUNTIME_RULES",
    "RulesRequest",
    "RulesResolver",
    "recommend_for_request",
    "resolve_request_rules",
    "rules_resolver",
]

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


#: memo sizes: resolvers per snapshot, decisions per resolver (beyond, they start over)
MAX_MEMO = 4096


class _AbStep(NamedTuple):
    """An ab_test scenario on a route: the test, and the routes of groups A and B."""

    hasher: AbHasher
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
        step = _AbStep(AbHasher(ref.id), probability_a, a[0], b[0])
        return step, max(a[1], b[1]) + 1

    found = build(name, 0)
    return None if found is None else found[0]


class _Leaf:
    """Where a request's decisions end: the rules they resolved to (the first time)."""

    __slots__ = ("rules",)

    def __init__(self, rules: ResolvedRules) -> None:
        self.rules = rules


class _Decision:
    """A decision met on the way (an A/B test, or a condition on ``n_ratings``).

    ``branches`` are what is left to follow after each outcome (group A or
    then, group B or else): that outcome's route, then the routes after it;
    ``children`` are made from them when a request first takes that outcome.
    """

    __slots__ = ("branches", "children", "hasher", "probability_a", "test")

    def __init__(
        self,
        step: _AbStep | _ConditionStep,
        rest: tuple[_Route, ...],
    ) -> None:
        if isinstance(step, _AbStep):
            self.hasher: AbHasher | None = step.hasher
            self.probability_a = step.probability_a
            self.test: UserFunction | None = None
            first, second = step.a, step.b
        else:
            self.hasher, self.probability_a, self.test = None, 0.0, step.test
            first, second = step.then, step.else_
        self.branches = ((first, *rest), (second, *rest))
        self.children: list[_Leaf | _Decision | None] = [None, None]

    def outcome(self, key: str | None, n_ratings: int) -> int:
        """0 for group A (or a condition that holds), 1 for group B (or else)."""
        hasher = self.hasher
        if hasher is not None:
            # as ab_group (probability_a was checked when the test was stored)
            return 0 if key is None or hasher.bucket(key) < self.probability_a else 1
        assert self.test is not None
        return 0 if self.test.holds(n_ratings) else 1


def _decides(route: _Route) -> tuple[bool, bool]:
    """Whether ``route`` meets any decision at all, and any condition on ``n_ratings``."""
    if isinstance(route, str):
        return False, False
    if isinstance(route, _AbStep):
        a, b = _decides(route.a), _decides(route.b)
        return True, a[1] or b[1]
    return True, True


class RulesResolver:
    """How one set of rule options resolves against one scenario snapshot.

    Built once per snapshot and options (:func:`rules_resolver`): the
    scenarios the options lead to are followed to their routes up front, so
    that a request only takes the decisions on them (A/B groups, conditions),
    walking a tree of the decisions taken so far down to the rules they
    resolved to the first time. The rules depend on nothing else of the
    user: two requests with the same decisions get the same
    :class:`ResolvedRules`. A broken route (a missing
    scenario, a cycle, a chain too long) is resolved on every request, so
    that ``resolve_rules`` raises its error.
    """

    __slots__ = (
        "_counts_ratings",
        "_n_nodes",
        "_root",
        "_routes",
        "_scenarios",
        "default",
        "fixed",
        "reco_type",
        "runtime",
        "scenario",
        "snapshot",
        "wants_rules",
    )

    def __init__(
        self,
        snapshot: ScenarioSnapshot,
        reco_type: RecoType,
        runtime: RuntimeRules,
        scenario: str | None,
        skip_default_scenario: bool,
        default_scenario: str | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.reco_type = reco_type
        self.runtime = runtime
        self.scenario = scenario or None
        default = default_scenario or snapshot.defaults.get(reco_type)
        if skip_default_scenario or default == self.scenario:
            default = None
        self.default = default
        #: whether any rule applies: a runtime option, or a scenario to follow
        self.wants_rules = bool(
            runtime.filters
            or runtime.reranking
            or runtime.exclude_rated_items is not None
            or self.scenario
            or default
        )
        self._scenarios = snapshot.of_type(reco_type)
        #: the decisions requests took so far, leading to the rules they resolved to
        self._root: _Leaf | _Decision | None = None
        self._n_nodes = 0
        self._counts_ratings = reco_type in snapshot.with_conditions
        #: the rules when no decision is taken (or no scenario at all)
        self.fixed: ResolvedRules | None = None
        self._routes: tuple[_Route, ...] | None = None
        if not self.scenario and not default:
            self.fixed = _runtime_only(runtime)
            return
        routes = []
        for name in (self.scenario, default):
            if name:
                route_key = ("route", reco_type, name)
                if route_key in snapshot.memo:  # a broken route is kept too, as None
                    route = snapshot.memo[route_key]
                else:
                    route = _route(name, self._scenarios, snapshot.probabilities)
                    snapshot.memo[route_key] = route
                if route is None:  # broken: resolve_rules reports it, request by request
                    return
                routes.append(route)
        decides = [_decides(route) for route in routes]
        self._counts_ratings = any(ratings for _, ratings in decides)
        if not any(taken for taken, _ in decides):
            self.fixed = self._resolve(None, 0)
            return
        self._routes = tuple(routes)

    def rules(
        self,
        model: TrainedModel,
        user_id: str | None,
        session_id: str | None = None,
        events: Sequence[UsageEvent] = (),
    ) -> ResolvedRules:
        """The rules for a request by ``user_id`` (or the anonymous ``session_id``)."""
        fixed = self.fixed
        if fixed is not None:
            return fixed
        user_id = user_id or None
        key = user_id or session_id or None
        n_ratings = len(user_known_items(model, user_id, events)) if self._counts_ratings else 0
        node = self._root
        if node is None:
            routes = self._routes
            if routes is None:  # broken: resolve_rules says why
                return self._resolve(key, n_ratings)
            node = self._root = self._node(routes, key, n_ratings)
        while isinstance(node, _Decision):
            outcome = node.outcome(key, n_ratings)
            child = node.children[outcome]
            if child is None:
                child = node.children[outcome] = self._node(node.branches[outcome], key, n_ratings)
            node = child
        return node.rules

    def _node(
        self, routes: tuple[_Route, ...], key: str | None, n_ratings: int
    ) -> _Leaf | _Decision:
        """The first decision left on ``routes`` (their case scenarios are passed by),
        or the leaf of the rules this request resolves to when none is left."""
        for at, route in enumerate(routes):
            if not isinstance(route, str):
                self._n_nodes += 1
                if self._n_nodes > MAX_MEMO:  # visited paths beyond this many: start over
                    self._n_nodes = 0
                    self._root = None
                return _Decision(route, routes[at + 1 :])
        return _Leaf(self._resolve(key, n_ratings))

    def _resolve(self, key: str | None, n_ratings: int) -> ResolvedRules:
        return resolve_rules(
            self.runtime,
            self.scenario,
            self.default,
            self._scenarios,
            user_id=key,
            n_ratings=n_ratings,
            ab_tests=self.snapshot.probabilities,
        )


def rules_resolver(
    snapshot: ScenarioSnapshot,
    reco_type: RecoType,
    runtime: RuntimeRules,
    scenario: str | None,
    skip_default_scenario: bool,
    default_scenario: str | None = None,
) -> RulesResolver:
    """The resolver of these options for ``snapshot`` (one per distinct options).

    ``default_scenario`` replaces the snapshot's default of ``reco_type``
    (a deployment's own default scenario).
    """
    memo = snapshot.memo
    default_scenario = default_scenario or None
    key = (
        "resolver",
        reco_type,
        runtime,
        scenario or None,
        skip_default_scenario,
        default_scenario,
    )
    found: RulesResolver | None = memo.get(key)
    if found is None:
        found = RulesResolver(
            snapshot, reco_type, runtime, scenario, skip_default_scenario, default_scenario
        )
        if len(memo) >= MAX_MEMO:
            memo.clear()
        memo[key] = found
    return found


def resolve_request_rules(
    model: TrainedModel,
    snapshot: ScenarioSnapshot,
    request: RulesRequest,
    events: Sequence[UsageEvent] = (),
) -> ResolvedRules:
    """The rules for ``request`` (``NotFound`` for an unknown scenario): :class:`RulesResolver`."""
    resolver = rules_resolver(
        snapshot,
        request.reco_type,
        request.runtime,
        request.scenario,
        request.skip_default_scenario,
    )
    return resolver.rules(model, request.user_id, request.session_id, events)


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
