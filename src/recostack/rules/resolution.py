"""Which rules apply to one request: runtime parameters, runtime scenario, default scenario.

Priority, as the reference states it: runtime params > runtime scenario >
default scenario.

- ``filters`` and ``reranking`` are concatenated in that order;
- ``exclude_rated_items`` is taken from the first level that sets it, else
  ``False``;
- the default scenario is skipped when ``skip_default_scenario`` is true, when
  it is also the runtime scenario, or when it resolves to the same case
  scenario as the runtime one (the same rules are never applied twice).

A scenario name resolves by following its chain to a case scenario: an alias
forwards, a condition evaluates ``n_ratings op value`` and takes then/else, an
ab_test puts the user in group A or B (:func:`~recostack.rules.ab_testing.ab_group`)
and takes scenario_a / scenario_b. A request without a user (or session) id is
not randomised: it gets group A. The chain is at most :data:`MAX_CHAIN_DEPTH`
scenarios long and may not revisit a scenario (:class:`Conflict` otherwise),
so resolution always terminates even on a graph that was never validated.

:class:`Resolution` is how one request's :class:`RuleOptions` resolve
against a :class:`~recostack.rules.snapshot.ScenarioSnapshot`: worked out
once per snapshot and options (a serving layer caches it), it holds the
resolved rules outright when no A/B test or condition lies on the way, and
otherwise resolves each request with :func:`resolve_rules` — the one
implementation of the priority above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from recostack.errors import Conflict, NotFound
from recostack.rules.ab_testing import AbGroup, ab_group
from recostack.rules.scenarios import (
    AbTestScenario,
    AliasScenario,
    CaseRules,
    CaseScenario,
    ConditionScenario,
    RecoType,
    Scenario,
    meets_decisions,
)
from recostack.rules.snapshot import ScenarioSnapshot

__all__ = [
    "MAX_CHAIN_DEPTH",
    "AbAssignment",
    "AppliedScenario",
    "Resolution",
    "ResolvedRules",
    "RuleOptions",
    "RuleSet",
    "RuntimeRules",
    "resolve_rules",
    "resolve_scenario",
]

MAX_CHAIN_DEPTH = 32

Level = Literal["runtime", "default"]


@dataclass(frozen=True, slots=True)
class RuntimeRules:
    """The rules given as request parameters; ``None`` means "not given"."""

    filters: Sequence[str] = ()
    reranking: Sequence[str] = ()
    exclude_rated_items: bool | None = None

    def __post_init__(self) -> None:
        for name in ("filters", "reranking"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))


@dataclass(frozen=True, slots=True)
class RuleOptions:
    """The rule options of one request (hashable: a resolution is kept per options)."""

    reco_type: RecoType
    runtime: RuntimeRules = RuntimeRules()
    scenario: str | None = None
    skip_default_scenario: bool = False
    #: a deployment's own default scenario, instead of the stored default of ``reco_type``
    default_scenario: str | None = None


class RuleSet(NamedTuple):
    """What scoring needs of resolved rules (equal sets score alike, whatever their source)."""

    filters: tuple[str, ...]
    reranking: tuple[str, ...]
    exclude_rated_items: bool


@dataclass(frozen=True, slots=True)
class AbAssignment:
    """The group an ab_test scenario put the user in for one A/B test."""

    test_id: str
    group: AbGroup
    scenario: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.test_id, "group": self.group, "scenario": self.scenario}


@dataclass(frozen=True, slots=True)
class AppliedScenario:
    """One scenario followed to its case: ``path`` runs from ``requested`` to ``case``."""

    level: Level
    requested: str
    path: tuple[str, ...]
    ab_tests: tuple[AbAssignment, ...]
    rules: CaseRules = field(compare=False)

    @property
    def case(self) -> str:
        return self.path[-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "scenario": self.requested,
            "path": list(self.path),
            "case": self.case,
            "ab_tests": [a.to_dict() for a in self.ab_tests],
        }


@dataclass(frozen=True, slots=True)
class ResolvedRules:
    """The rules to apply, and the scenarios (runtime first) they came from."""

    filters: tuple[str, ...] = ()
    reranking: tuple[str, ...] = ()
    exclude_rated_items: bool = False
    scenarios: tuple[AppliedScenario, ...] = ()

    @property
    def rule_set(self) -> RuleSet:
        return RuleSet(self.filters, self.reranking, self.exclude_rated_items)

    @property
    def case_scenarios(self) -> tuple[str, ...]:
        """The case scenarios applied, runtime first."""
        return tuple(applied.case for applied in self.scenarios)

    @property
    def ab_test(self) -> AbAssignment | None:
        """The first A/B assignment made (runtime chain first), if any."""
        for applied in self.scenarios:
            if applied.ab_tests:
                return applied.ab_tests[0]
        return None

    def trace(self) -> dict[str, Any]:
        """What an answer reports with ``include=scenario`` (JSON-ready)."""
        ab = self.ab_test
        return {
            "scenario": self.scenarios[0].requested if self.scenarios else None,
            "case_scenarios": list(self.case_scenarios),
            "ab_test": ab.to_dict() if ab else None,
            "applied": [applied.to_dict() for applied in self.scenarios],
        }


def resolve_scenario(
    name: str,
    scenarios: Mapping[str, Scenario],
    *,
    user_id: str | None,
    n_ratings: int,
    ab_tests: Mapping[str, float],
    level: Level = "runtime",
) -> AppliedScenario:
    """Follow ``name`` through aliases, conditions and A/B tests to a case scenario."""
    path: list[str] = []
    assignments: list[AbAssignment] = []
    current = name
    while True:
        if current in path:
            cycle = [*path[path.index(current) :], current]
            raise Conflict(
                f"scenario cycle: {' -> '.join(cycle)}", field="scenario", detail={"cycle": cycle}
            )
        path.append(current)
        if len(path) > MAX_CHAIN_DEPTH:
            raise Conflict(
                f"scenario {name!r}: chain longer than {MAX_CHAIN_DEPTH} scenarios",
                field="scenario",
            )
        scenario = scenarios.get(current)
        if scenario is None:
            if len(path) > 1:
                message = f"scenario {current!r} (referred to by {path[-2]!r}) does not exist"
            elif level == "default":
                message = f"default scenario {current!r} does not exist"
            else:
                message = f"scenario {current!r} does not exist"
            raise NotFound(message, field="scenario")
        if isinstance(scenario, CaseScenario):
            return AppliedScenario(level, name, tuple(path), tuple(assignments), scenario.case)
        if isinstance(scenario, AliasScenario):
            current = scenario.alias.scenario_name
        elif isinstance(scenario, ConditionScenario):
            condition = scenario.condition
            current = condition.then if condition.if_.holds(n_ratings) else condition.else_
        else:
            assert isinstance(scenario, AbTestScenario)
            group = _group(current, scenario, user_id, ab_tests)
            assignments.append(AbAssignment(scenario.ab_test.id, group, current))
            ref = scenario.ab_test
            current = ref.scenario_a if group == "A" else ref.scenario_b


def _group(
    name: str, scenario: AbTestScenario, user_id: str | None, ab_tests: Mapping[str, float]
) -> AbGroup:
    test_id = scenario.ab_test.id
    probability_a = ab_tests.get(test_id)
    if probability_a is None:
        raise NotFound(
            f"A/B test {test_id!r} (of scenario {name!r}) does not exist", field="scenario"
        )
    if user_id is None:
        return "A"
    return ab_group(test_id, user_id, probability_a)


def resolve_rules(
    runtime: RuntimeRules,
    scenario_name: str | None,
    default_scenario: str | None,
    scenarios: Mapping[str, Scenario],
    *,
    user_id: str | None,
    n_ratings: int,
    ab_tests: Mapping[str, float],
    skip_default_scenario: bool = False,
) -> ResolvedRules:
    """The rules for one request, by the reference's priority (see the module docstring).

    ``scenarios`` are those of the request's recommendation type, ``ab_tests``
    maps A/B test id → probability_a, ``n_ratings`` is the user's number of
    known interactions (for condition scenarios).
    """

    def resolve(name: str, level: Level) -> AppliedScenario:
        return resolve_scenario(
            name, scenarios, user_id=user_id, n_ratings=n_ratings, ab_tests=ab_tests, level=level
        )

    applied: list[AppliedScenario] = []
    if scenario_name:
        applied.append(resolve(scenario_name, "runtime"))
    if default_scenario and not skip_default_scenario and default_scenario != scenario_name:
        default = resolve(default_scenario, "default")
        if not applied or default.case != applied[0].case:
            applied.append(default)

    filters = list(runtime.filters)
    reranking = list(runtime.reranking)
    exclude = runtime.exclude_rated_items
    for level in applied:
        filters.extend(level.rules.filters)
        reranking.extend(level.rules.reranking)
        if exclude is None:
            exclude = level.rules.exclude_rated_items
    return ResolvedRules(
        filters=tuple(filters),
        reranking=tuple(reranking),
        exclude_rated_items=bool(exclude),
        scenarios=tuple(applied),
    )


class Resolution:
    """How one request's options resolve against one snapshot (read-only once built).

    ``fixed`` holds the rules when they do not depend on who asks (no A/B
    test and no condition on the way; building the resolution then raises
    what resolving raises, e.g. :class:`NotFound` for a missing scenario);
    ``counts_ratings`` says whether :meth:`rules` needs the user's number of
    known interactions (a condition scenario lies on the way).
    """

    __slots__ = ("counts_ratings", "default", "fixed", "options", "scenarios", "snapshot")

    def __init__(self, snapshot: ScenarioSnapshot, options: RuleOptions) -> None:
        reco_type = options.reco_type
        default = options.default_scenario or snapshot.defaults.get(reco_type)
        if options.skip_default_scenario or default == options.scenario:
            default = None
        self.snapshot = snapshot
        self.options = options
        self.default = default
        self.scenarios = snapshot.of_type(reco_type)
        ab_test, condition = meets_decisions(
            (options.scenario or "", default or ""), self.scenarios
        )
        self.counts_ratings = condition
        self.fixed = None if ab_test or condition else self._resolve(None, 0)

    def rules(self, user_key: str | None, n_ratings: int = 0) -> ResolvedRules:
        """The rules of a request by ``user_key`` (user or session id; ``None``: anonymous)."""
        if self.fixed is not None:
            return self.fixed
        return self._resolve(user_key, n_ratings)

    def _resolve(self, user_key: str | None, n_ratings: int) -> ResolvedRules:
        return resolve_rules(
            self.options.runtime,
            self.options.scenario,
            self.default,
            self.scenarios,
            user_id=user_key,
            n_ratings=n_ratings,
            ab_tests=self.snapshot.ab_tests,
        )
