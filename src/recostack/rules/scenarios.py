"""Scenarios: saved business rules, and the graph their references form.

The four scenario types, exactly as the reference's JSON bodies::

    {"scenario_type": "case",
     "case": {"filters": ["genres:eq:comedy"], "reranking": ["genres:diversity:0.5"],
              "exclude_rated_items": true}}
    {"scenario_type": "ab_test",
     "ab_test": {"id": "id123", "scenario_a": "scenar1", "scenario_b": "scenar2"}}
    {"scenario_type": "condition",
     "condition": {"condition_type": "user_function",
                   "if": {"function_name": "n_ratings", "op": "gte", "value": 21},
                   "then": "scenar_abtest1", "else": "scenar2"}}
    {"scenario_type": "alias", "alias": {"scenario_name": "scenar_condition1"}}

A scenario belongs to one recommendation type (the caller keeps them apart:
every ``Mapping[str, Scenario]`` here holds the scenarios of one type).
ab_test, condition and alias scenarios refer to others by name; the
references must form a directed acyclic graph whose leaves are case
scenarios. :func:`validate_scenario_graph` checks that before a write,
:func:`referrers` before a delete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from recostack.errors import Conflict, Invalid
from recostack.rules.filters import parse_filter
from recostack.rules.reranking import parse_reranking

__all__ = [
    "RECO_TYPES",
    "AbTestRef",
    "AbTestScenario",
    "AliasScenario",
    "AliasTarget",
    "CaseRules",
    "CaseScenario",
    "Condition",
    "ConditionScenario",
    "RecoType",
    "Scenario",
    "UserFunction",
    "ab_tests_used",
    "dump_scenario",
    "find_cycle",
    "meets_decisions",
    "parse_scenario",
    "referrers",
    "validate_scenario_graph",
]

RecoType = Literal["item_to_items", "profile_to_items", "session_to_items"]
RECO_TYPES: tuple[str, ...] = get_args(RecoType)
ConditionOp = Literal["eq", "neq", "gt", "gte", "lt", "lte"]
ScenarioName = Annotated[str, Field(min_length=1, max_length=256)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class CaseRules(_Model):
    """The rules of a case scenario; ``exclude_rated_items=None`` means "not set here"."""

    filters: tuple[str, ...] = ()
    reranking: tuple[str, ...] = ()
    exclude_rated_items: bool | None = None

    @field_validator("filters")
    @classmethod
    def _check_filters(cls, filters: tuple[str, ...]) -> tuple[str, ...]:
        for text in filters:
            try:
                parse_filter(text)
            except Invalid as error:
                raise ValueError(error.message) from None
        return filters

    @field_validator("reranking")
    @classmethod
    def _check_reranking(cls, reranking: tuple[str, ...]) -> tuple[str, ...]:
        for text in reranking:
            try:
                parse_reranking(text)
            except Invalid as error:
                raise ValueError(error.message) from None
        return reranking


class CaseScenario(_Model):
    scenario_type: Literal["case"]
    case: CaseRules

    def references(self) -> tuple[str, ...]:
        return ()


class AbTestRef(_Model):
    """``id`` is the A/B test parameters' id (``POST /api/ab-tests/params``)."""

    id: Annotated[str, Field(min_length=1)]
    scenario_a: ScenarioName
    scenario_b: ScenarioName


class AbTestScenario(_Model):
    scenario_type: Literal["ab_test"]
    ab_test: AbTestRef

    def references(self) -> tuple[str, ...]:
        return (self.ab_test.scenario_a, self.ab_test.scenario_b)


class UserFunction(_Model):
    function_name: Literal["n_ratings"]
    op: ConditionOp
    value: StrictInt | StrictFloat

    def holds(self, n_ratings: int) -> bool:
        """Whether ``function(user) op value``, e.g. ``n_ratings >= 21``."""
        value = self.value
        match self.op:
            case "eq":
                return n_ratings == value
            case "neq":
                return n_ratings != value
            case "gt":
                return n_ratings > value
            case "gte":
                return n_ratings >= value
            case "lt":
                return n_ratings < value
            case _:
                return n_ratings <= value


class Condition(_Model):
    condition_type: Literal["user_function"]
    if_: UserFunction = Field(alias="if")
    then: ScenarioName
    else_: ScenarioName = Field(alias="else")


class ConditionScenario(_Model):
    scenario_type: Literal["condition"]
    condition: Condition

    def references(self) -> tuple[str, ...]:
        return (self.condition.then, self.condition.else_)


class AliasTarget(_Model):
    scenario_name: ScenarioName


class AliasScenario(_Model):
    scenario_type: Literal["alias"]
    alias: AliasTarget

    def references(self) -> tuple[str, ...]:
        return (self.alias.scenario_name,)


Scenario = Annotated[
    CaseScenario | AbTestScenario | ConditionScenario | AliasScenario,
    Field(discriminator="scenario_type"),
]
_SCENARIO: TypeAdapter[Scenario] = TypeAdapter(Scenario)


def parse_scenario(data: Mapping[str, Any] | str | bytes) -> Scenario:
    """A scenario from its JSON body (a mapping or JSON text); :class:`Invalid` if wrong."""
    try:
        if isinstance(data, str | bytes):
            return _SCENARIO.validate_json(data)
        return _SCENARIO.validate_python(data)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_context=False, include_input=False)
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"]) or "scenario"
        raise Invalid(
            f"invalid scenario: {where}: {first['msg']}", field="scenario", detail=errors
        ) from None


def dump_scenario(scenario: Scenario) -> dict[str, Any]:
    """The JSON body of a scenario (``parse_scenario(dump_scenario(s)) == s``)."""
    return scenario.model_dump(mode="json", by_alias=True, exclude_none=True)


def validate_scenario_graph(
    scenarios: Mapping[str, Scenario],
    reco_type: str,
    *,
    ab_tests: Mapping[str, object] | None = None,
) -> None:
    """Refuse a scenario set whose references dangle or loop (:class:`Conflict`).

    ``scenarios`` are all the scenarios of ``reco_type`` as they would be after
    the write. A reference must name one of them (a scenario of another type
    does not count); when ``ab_tests`` (the A/B test ids) is given, every
    ab_test scenario's ``id`` must be in it. A cycle is reported with its
    path, ``a -> b -> a``, in the message and as ``detail["cycle"]``.
    """
    for name in sorted(scenarios):
        scenario = scenarios[name]
        for target in scenario.references():
            if target not in scenarios:
                raise Conflict(
                    f"scenario {name!r} refers to {target!r}, which is not a {reco_type} scenario",
                    field="scenario",
                    detail={"scenario": name, "missing": target},
                )
        if (
            ab_tests is not None
            and isinstance(scenario, AbTestScenario)
            and scenario.ab_test.id not in ab_tests
        ):
            raise Conflict(
                f"scenario {name!r} refers to A/B test {scenario.ab_test.id!r}, "
                "which does not exist",
                field="scenario",
                detail={"scenario": name, "missing_ab_test": scenario.ab_test.id},
            )
    cycle = find_cycle(scenarios)
    if cycle is not None:
        path = " -> ".join(cycle)
        raise Conflict(
            f"{reco_type} scenarios would form a cycle: {path}",
            field="scenario",
            detail={"cycle": cycle},
        )


def find_cycle(scenarios: Mapping[str, Scenario]) -> list[str] | None:
    """One reference cycle as a path ``[a, b, ..., a]``, or ``None`` (dangling refs ignored)."""
    done: set[str] = set()
    for root in sorted(scenarios):
        if root in done:
            continue
        # Iterative depth-first search; ``path`` is the current chain from root.
        path: list[str] = [root]
        on_path: dict[str, int] = {root: 0}
        pending = [iter(scenarios[root].references())]
        while pending:
            target = next(pending[-1], None)
            if target is None:
                pending.pop()
                node = path.pop()
                del on_path[node]
                done.add(node)
                continue
            if target in on_path:
                return [*path[on_path[target] :], target]
            if target in done or target not in scenarios:
                continue
            on_path[target] = len(path)
            path.append(target)
            pending.append(iter(scenarios[target].references()))
    return None


def referrers(name: str, scenarios: Mapping[str, Scenario]) -> list[str]:
    """The scenarios that refer to ``name`` directly, sorted (a delete must find none)."""
    return sorted(other for other, s in scenarios.items() if name in s.references())


def ab_tests_used(scenarios: Mapping[str, Scenario]) -> set[str]:
    """The A/B test ids the ab_test scenarios refer to (a test in use cannot be deleted)."""
    return {s.ab_test.id for s in scenarios.values() if isinstance(s, AbTestScenario)}


def meets_decisions(names: Iterable[str], scenarios: Mapping[str, Scenario]) -> tuple[bool, bool]:
    """Whether following ``names`` can meet an ab_test, and a condition, scenario.

    A depth-first walk that visits each scenario once (the graph is a DAG
    whose sub-chains are shared: visiting both branches of every A/B test
    again would be exponential in its depth). Missing references and cycles
    are passed by: resolving a request that meets them says what is wrong.
    """
    ab_test = condition = False
    seen: set[str] = set()
    pending = [name for name in names if name]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        scenario = scenarios.get(name)
        if scenario is None:
            continue
        ab_test = ab_test or isinstance(scenario, AbTestScenario)
        condition = condition or isinstance(scenario, ConditionScenario)
        pending.extend(scenario.references())
    return ab_test, condition
