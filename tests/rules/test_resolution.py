from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.errors import Conflict, NotFound
from recostack.rules import (
    MAX_CHAIN_DEPTH,
    ResolvedRules,
    RuntimeRules,
    Scenario,
    ab_group,
    find_cycle,
    parse_scenario,
    resolve_rules,
    resolve_scenario,
)

from .scenario_examples import AB_TESTS, alias, case, example


def resolve(
    runtime: RuntimeRules | None = None,
    scenario: str | None = None,
    default: str | None = None,
    scenarios: dict[str, Scenario] | None = None,
    *,
    user_id: str | None = "alice",
    n_ratings: int = 0,
    skip_default_scenario: bool = False,
) -> ResolvedRules:
    return resolve_rules(
        runtime or RuntimeRules(),
        scenario,
        default,
        example() if scenarios is None else scenarios,
        user_id=user_id,
        n_ratings=n_ratings,
        ab_tests=AB_TESTS,
        skip_default_scenario=skip_default_scenario,
    )


SCENAR1 = (("genres:eq:comedy",), ())
SCENAR2 = ((), ("genres:diversity:0.5",))


@pytest.mark.parametrize(
    "name", ["scenar1", "scenar2", "scenar_abtest1", "scenar_condition1", "scenar_alias1"]
)
@pytest.mark.parametrize("n_ratings", [0, 20, 21, 100])
@pytest.mark.parametrize("as_default", [False, True])
def test_reference_example_always_applies_one_of_the_two_cases(
    name: str, n_ratings: int, as_default: bool
) -> None:
    for user in ("alice", "bob", "carol", "dave", None):
        if as_default:
            rules = resolve(default=name, n_ratings=n_ratings, user_id=user)
        else:
            rules = resolve(scenario=name, n_ratings=n_ratings, user_id=user)
        assert len(rules.case_scenarios) == 1
        assert rules.case_scenarios[0] in ("scenar1", "scenar2")
        expected = SCENAR1 if rules.case_scenarios == ("scenar1",) else SCENAR2
        assert (rules.filters, rules.reranking) == expected
        assert rules.scenarios[0].level == ("default" if as_default else "runtime")


def test_condition_and_ab_test_follow_the_user() -> None:
    # Few ratings: the condition's else branch, no A/B test.
    few = resolve(scenario="scenar_alias1", n_ratings=20)
    assert few.scenarios[0].path == ("scenar_alias1", "scenar_condition1", "scenar2")
    assert few.ab_test is None
    # Enough ratings: the A/B test decides, by the user's group.
    for user in ("alice", "bob", "carol", "dave", "erin"):
        many = resolve(scenario="scenar_alias1", n_ratings=21, user_id=user)
        group = ab_group("id123", user, AB_TESTS["id123"])
        assert many.ab_test is not None
        assert (many.ab_test.test_id, many.ab_test.group) == ("id123", group)
        assert many.ab_test.scenario == "scenar_abtest1"
        assert many.case_scenarios == (("scenar1",) if group == "A" else ("scenar2",))
        path = many.scenarios[0].path
        assert path[:3] == ("scenar_alias1", "scenar_condition1", "scenar_abtest1")


def test_same_ab_test_same_group_through_any_scenario() -> None:
    scenarios = example()
    scenarios["other_ab"] = parse_scenario(
        {
            "scenario_type": "ab_test",
            "ab_test": {"id": "id123", "scenario_a": "x", "scenario_b": "y"},
        }
    )
    scenarios["x"] = case(filters=["genres:eq:x"])
    scenarios["y"] = case(filters=["genres:eq:y"])
    for i in range(50):
        user = f"user{i}"
        first = resolve(scenario="scenar_abtest1", scenarios=scenarios, user_id=user)
        second = resolve(scenario="other_ab", scenarios=scenarios, user_id=user)
        assert first.ab_test and second.ab_test
        assert first.ab_test.group == second.ab_test.group


def test_anonymous_requests_get_group_a() -> None:
    rules = resolve(scenario="scenar_abtest1", user_id=None)
    assert rules.ab_test is not None and rules.ab_test.group == "A"
    assert rules.case_scenarios == ("scenar1",)


def test_no_rules_at_all() -> None:
    rules = resolve()
    assert rules == ResolvedRules()
    assert rules.exclude_rated_items is False
    assert rules.trace() == {"scenario": None, "case_scenarios": [], "ab_test": None, "applied": []}


def levels() -> dict[str, Scenario]:
    return {
        "runtime_s": case(["f:eq:scenario"], ["r:diversity:2"], exclude_rated_items=False),
        "default_s": case(["f:eq:default"], ["r:diversity:3"], exclude_rated_items=True),
        "unset_s": case(["f:eq:unset"]),
        "to_default": alias("default_s"),
    }


def test_priority_concatenates_lists_runtime_first() -> None:
    runtime = RuntimeRules(filters=["f:eq:runtime"], reranking=["r:diversity:1"])
    rules = resolve(runtime, "runtime_s", "default_s", levels())
    assert rules.filters == ("f:eq:runtime", "f:eq:scenario", "f:eq:default")
    assert rules.reranking == ("r:diversity:1", "r:diversity:2", "r:diversity:3")
    assert rules.case_scenarios == ("runtime_s", "default_s")
    assert [a.level for a in rules.scenarios] == ["runtime", "default"]


def test_runtime_rules_take_one_string_or_a_list() -> None:
    assert RuntimeRules(filters="a:eq:1").filters == ("a:eq:1",)
    assert RuntimeRules(reranking=["a:diversity:1"]).reranking == ("a:diversity:1",)


def test_reference_priority_example() -> None:
    scenarios: dict[str, Scenario] = {"scenar101": case(reranking=["price:diversity:2"])}
    runtime = RuntimeRules(reranking=["price:diversity:1"])
    rules = resolve(runtime, None, "scenar101", scenarios)
    assert rules.reranking == ("price:diversity:1", "price:diversity:2")


@pytest.mark.parametrize(
    ("runtime_value", "scenario", "default", "expected"),
    [
        (True, "runtime_s", "default_s", True),  # runtime params first
        (None, "runtime_s", "default_s", False),  # then the runtime scenario (sets False)
        (None, "unset_s", "default_s", True),  # then the default scenario
        (None, "unset_s", None, False),  # then the default value
        (None, None, "unset_s", False),
        (False, None, "default_s", False),
    ],
)
def test_exclude_rated_items_from_the_first_level_that_sets_it(
    runtime_value: bool | None, scenario: str | None, default: str | None, expected: bool
) -> None:
    rules = resolve(RuntimeRules(exclude_rated_items=runtime_value), scenario, default, levels())
    assert rules.exclude_rated_items is expected


def test_default_given_at_runtime_is_not_applied_twice() -> None:
    rules = resolve(None, "default_s", "default_s", levels())
    assert rules.filters == ("f:eq:default",)
    assert rules.case_scenarios == ("default_s",)
    assert rules.scenarios[0].level == "runtime"
    # Nor when the runtime scenario leads to the same case by another name.
    via_alias = resolve(None, "to_default", "default_s", levels())
    assert via_alias.filters == ("f:eq:default",)
    assert via_alias.case_scenarios == ("default_s",)


def test_skip_default_scenario() -> None:
    rules = resolve(None, "runtime_s", "default_s", levels(), skip_default_scenario=True)
    assert rules.case_scenarios == ("runtime_s",)
    assert resolve(None, None, "default_s", levels(), skip_default_scenario=True) == ResolvedRules()


def test_trace_reports_scenario_and_group() -> None:
    rules = resolve(scenario="scenar_abtest1", user_id="alice")
    trace = rules.trace()
    group = ab_group("id123", "alice", AB_TESTS["id123"])
    assert trace["scenario"] == "scenar_abtest1"
    assert trace["ab_test"] == {"id": "id123", "group": group, "scenario": "scenar_abtest1"}
    assert trace["applied"][0]["path"][0] == "scenar_abtest1"
    assert trace["case_scenarios"] == ["scenar1" if group == "A" else "scenar2"]


def test_unknown_scenarios_and_ab_tests_are_not_found() -> None:
    with pytest.raises(NotFound, match="scenario 'nope'") as raised:
        resolve(scenario="nope")
    assert raised.value.field == "scenario"
    with pytest.raises(NotFound, match="default scenario 'nope'"):
        resolve(default="nope")
    with pytest.raises(NotFound, match=r"'gone' \(referred to by 'a'\)"):
        resolve(scenario="a", scenarios={"a": alias("gone")})
    with pytest.raises(NotFound, match="A/B test 'id123'"):
        resolve_scenario(
            "scenar_abtest1", example(), user_id="u", n_ratings=0, ab_tests={}, level="runtime"
        )


def test_unvalidated_cycles_and_deep_chains_terminate() -> None:
    with pytest.raises(Conflict, match="a -> b -> a"):
        resolve(scenario="a", scenarios={"a": alias("b"), "b": alias("a")})
    chain: dict[str, Scenario] = {f"s{i}": alias(f"s{i + 1}") for i in range(MAX_CHAIN_DEPTH + 5)}
    chain[f"s{MAX_CHAIN_DEPTH + 5}"] = case()
    with pytest.raises(Conflict, match="chain longer than"):
        resolve(scenario="s0", scenarios=chain)
    short = {f"s{i}": alias(f"s{i + 1}") for i in range(MAX_CHAIN_DEPTH - 1)}
    short[f"s{MAX_CHAIN_DEPTH - 1}"] = case(["x:empty"])
    assert resolve(scenario="s0", scenarios=short).filters == ("x:empty",)


# -- properties ---------------------------------------------------------------------------


@st.composite
def scenario_graphs(draw: st.DrawFn, acyclic: bool) -> dict[str, Scenario]:
    """Random graphs of every scenario type; acyclic ones only refer to higher numbers."""
    n = draw(st.integers(2, 12))
    scenarios: dict[str, Scenario] = {}
    for i in range(n):
        targets = list(range(i + 1, n)) if acyclic else list(range(n))
        kind = "case" if not targets else draw(st.sampled_from(["case", "alias", "ab", "cond"]))
        pick = st.sampled_from(targets) if targets else st.nothing()
        if kind == "case":
            scenarios[f"s{i}"] = case([f"p:eq:{i}"], [f"p:diversity:{i}"])
        elif kind == "alias":
            scenarios[f"s{i}"] = alias(f"s{draw(pick)}")
        elif kind == "ab":
            a, b = draw(pick), draw(pick)
            scenarios[f"s{i}"] = parse_scenario(
                {
                    "scenario_type": "ab_test",
                    "ab_test": {"id": "id123", "scenario_a": f"s{a}", "scenario_b": f"s{b}"},
                }
            )
        else:
            then, other = draw(pick), draw(pick)
            scenarios[f"s{i}"] = parse_scenario(
                {
                    "scenario_type": "condition",
                    "condition": {
                        "condition_type": "user_function",
                        "if": {"function_name": "n_ratings", "op": "gt", "value": 5},
                        "then": f"s{then}",
                        "else": f"s{other}",
                    },
                }
            )
    return scenarios


@settings(max_examples=150, deadline=None)
@given(
    scenarios=scenario_graphs(acyclic=True),
    user=st.text(max_size=8),
    n_ratings=st.integers(0, 10),
    data=st.data(),
)
def test_resolution_of_acyclic_graphs_ends_at_a_case(
    scenarios: dict[str, Scenario], user: str, n_ratings: int, data: st.DataObject
) -> None:
    assert find_cycle(scenarios) is None
    name = data.draw(st.sampled_from(sorted(scenarios)))
    rules = resolve(scenario=name, scenarios=scenarios, user_id=user, n_ratings=n_ratings)
    (applied,) = rules.scenarios
    assert applied.path[0] == name
    assert scenarios[applied.case].references() == ()
    for here, there in itertools.pairwise(applied.path):
        assert there in scenarios[here].references()


@settings(max_examples=150, deadline=None)
@given(scenarios=scenario_graphs(acyclic=False), n_ratings=st.integers(0, 10), data=st.data())
def test_resolution_terminates_even_on_cyclic_graphs(
    scenarios: dict[str, Scenario], n_ratings: int, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(scenarios)))
    try:
        rules = resolve(scenario=name, scenarios=scenarios, n_ratings=n_ratings)
    except Conflict as error:
        assert find_cycle(scenarios) is not None
        assert "cycle" in error.message
    else:
        assert rules.case_scenarios


rule_lists = st.lists(st.sampled_from(["a:eq:1", "b:neq:2", "c:empty", "d:in:x,y"]), max_size=4)


@settings(max_examples=100, deadline=None)
@given(
    runtime_filters=rule_lists,
    scenario_filters=rule_lists,
    default_filters=rule_lists,
    use_scenario=st.booleans(),
    use_default=st.booleans(),
    skip=st.booleans(),
)
def test_concatenation_order(
    runtime_filters: list[str],
    scenario_filters: list[str],
    default_filters: list[str],
    use_scenario: bool,
    use_default: bool,
    skip: bool,
) -> None:
    scenarios: dict[str, Scenario] = {
        "s": case(scenario_filters, [f.split(":")[0] + ":diversity:1" for f in scenario_filters]),
        "d": case(default_filters, [f.split(":")[0] + ":diversity:2" for f in default_filters]),
    }
    runtime = RuntimeRules(filters=runtime_filters)
    rules = resolve(
        runtime,
        "s" if use_scenario else None,
        "d" if use_default else None,
        scenarios,
        skip_default_scenario=skip,
    )
    expected = list(runtime_filters)
    expected_reranking = []
    if use_scenario:
        expected += scenario_filters
        expected_reranking += [f.split(":")[0] + ":diversity:1" for f in scenario_filters]
    if use_default and not skip:
        expected += default_filters
        expected_reranking += [f.split(":")[0] + ":diversity:2" for f in default_filters]
    assert rules.filters == tuple(expected)
    assert rules.reranking == tuple(expected_reranking)
