from __future__ import annotations

import itertools
import json

import pytest

from recostack.errors import Conflict, Invalid
from recostack.rules import (
    AbTestScenario,
    AliasScenario,
    CaseScenario,
    ConditionScenario,
    Scenario,
    ab_tests_used,
    dump_scenario,
    find_cycle,
    parse_scenario,
    referrers,
    validate_scenario_graph,
)

from .scenario_examples import BODIES, alias, case, example


def test_each_type_parses_from_the_reference_json() -> None:
    scenarios = example()
    scenar1 = scenarios["scenar1"]
    assert isinstance(scenar1, CaseScenario)
    assert scenar1.case.filters == ("genres:eq:comedy",)
    assert scenar1.case.reranking == ()
    assert scenar1.case.exclude_rated_items is None
    ab = scenarios["scenar_abtest1"]
    assert isinstance(ab, AbTestScenario)
    assert (ab.ab_test.id, ab.references()) == ("id123", ("scenar1", "scenar2"))
    condition = scenarios["scenar_condition1"]
    assert isinstance(condition, ConditionScenario)
    assert condition.condition.if_.op == "gte" and condition.condition.if_.value == 21
    assert condition.references() == ("scenar_abtest1", "scenar2")
    alias1 = scenarios["scenar_alias1"]
    assert isinstance(alias1, AliasScenario)
    assert alias1.references() == ("scenar_condition1",)


@pytest.mark.parametrize("name", list(BODIES))
def test_dump_round_trips_to_the_same_json(name: str) -> None:
    scenario = parse_scenario(BODIES[name])
    dumped = dump_scenario(scenario)
    assert parse_scenario(dumped) == scenario
    assert parse_scenario(json.dumps(dumped)) == scenario
    if name == "scenar_condition1":
        assert dumped == BODIES[name]  # "if" / "else", not if_ / else_


def test_case_with_every_field() -> None:
    body = {
        "scenario_type": "case",
        "case": {
            "filters": ["a:empty"],
            "reranking": ["b:diversity:1"],
            "exclude_rated_items": True,
        },
    }
    assert dump_scenario(parse_scenario(body)) == body


@pytest.mark.parametrize(
    ("op", "value", "n_ratings", "holds"),
    [
        ("eq", 3, 3, True),
        ("neq", 3, 3, False),
        ("gt", 3, 3, False),
        ("gte", 3, 3, True),
        ("lt", 3, 2, True),
        ("lte", 2.5, 3, False),
    ],
)
def test_condition_ops(op: str, value: float, n_ratings: int, holds: bool) -> None:
    scenario = parse_scenario(
        {
            "scenario_type": "condition",
            "condition": {
                "condition_type": "user_function",
                "if": {"function_name": "n_ratings", "op": op, "value": value},
                "then": "x",
                "else": "y",
            },
        }
    )
    assert isinstance(scenario, ConditionScenario)
    assert scenario.condition.if_.holds(n_ratings) is holds


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"scenario_type": "case"}, "case.case"),
        ({"scenario_type": "nope", "case": {}}, "scenario_type"),
        ({"scenario_type": "case", "case": {"filters": ["genres:like:x"]}}, "filters"),
        ({"scenario_type": "case", "case": {"reranking": ["genres:diversity:-1"]}}, "reranking"),
        ({"scenario_type": "case", "case": {"filter": []}}, "filter"),
        ({"scenario_type": "case", "case": {}, "alias": {"scenario_name": "x"}}, "alias"),
        ({"scenario_type": "alias", "alias": {"scenario_name": ""}}, "scenario_name"),
        ({"scenario_type": "ab_test", "ab_test": {"id": "x", "scenario_a": "a"}}, "scenario_b"),
        (
            {
                "scenario_type": "condition",
                "condition": {
                    "condition_type": "user_function",
                    "if": {"function_name": "n_items", "op": "gte", "value": 1},
                    "then": "a",
                    "else": "b",
                },
            },
            "function_name",
        ),
        (
            {
                "scenario_type": "condition",
                "condition": {
                    "condition_type": "user_function",
                    "if": {"function_name": "n_ratings", "op": "gte", "value": "many"},
                    "then": "a",
                    "else": "b",
                },
            },
            "value",
        ),
    ],
)
def test_bad_bodies_are_invalid(body: dict[str, object], where: str) -> None:
    with pytest.raises(Invalid, match=where) as raised:
        parse_scenario(body)
    assert raised.value.field == "scenario"
    json.dumps(raised.value.to_dict())  # the detail is JSON-ready


def test_invalid_filter_in_a_case_names_the_filter() -> None:
    with pytest.raises(Invalid, match="genres:like:x"):
        parse_scenario({"scenario_type": "case", "case": {"filters": ["genres:like:x"]}})


def test_the_reference_example_is_a_valid_graph() -> None:
    validate_scenario_graph(example(), "profile_to_items", ab_tests={"id123": 0.3333})


def test_dangling_reference_is_refused_and_named() -> None:
    scenarios: dict[str, Scenario] = {**example(), "scenar_alias2": alias("scenar9")}
    with pytest.raises(Conflict, match="'scenar_alias2' refers to 'scenar9'") as raised:
        validate_scenario_graph(scenarios, "profile_to_items")
    assert "profile_to_items" in raised.value.message
    assert raised.value.detail == {"scenario": "scenar_alias2", "missing": "scenar9"}


def test_reference_to_another_reco_type_is_dangling() -> None:
    item_scenarios: dict[str, Scenario] = {"only": alias("scenar1")}  # scenar1 is profile_to_items
    with pytest.raises(Conflict, match="not a item_to_items scenario"):
        validate_scenario_graph(item_scenarios, "item_to_items")


def test_unknown_ab_test_is_refused() -> None:
    with pytest.raises(Conflict, match="A/B test 'id123'"):
        validate_scenario_graph(example(), "profile_to_items", ab_tests={"other": 0.5})


def test_cycle_is_refused_with_its_path() -> None:
    scenarios = example()
    # Rewrite scenar2 (a leaf) as an alias back to the condition: a cycle through two paths.
    scenarios["scenar2"] = alias("scenar_alias1")
    with pytest.raises(Conflict) as raised:
        validate_scenario_graph(scenarios, "profile_to_items")
    message = raised.value.message
    assert "cycle" in message
    detail = raised.value.detail
    assert detail is not None
    cycle = detail["cycle"]
    assert cycle[0] == cycle[-1]
    assert " -> ".join(cycle) in message
    for here, there in itertools.pairwise(cycle):
        assert there in scenarios[here].references()


def test_self_and_two_cycles() -> None:
    assert find_cycle({"a": alias("a")}) == ["a", "a"]
    with pytest.raises(Conflict, match=r"a -> b -> a"):
        validate_scenario_graph({"a": alias("b"), "b": alias("a")}, "item_to_items")
    assert find_cycle({"a": alias("b"), "b": case(), "c": alias("b")}) is None


def test_diamond_is_not_a_cycle() -> None:
    ab = parse_scenario(
        {"scenario_type": "ab_test", "ab_test": {"id": "t", "scenario_a": "x", "scenario_b": "y"}}
    )
    scenarios = {"top": ab, "x": alias("leaf"), "y": alias("leaf"), "leaf": case()}
    validate_scenario_graph(scenarios, "item_to_items")


def test_referrers_and_ab_tests_used() -> None:
    scenarios = example()
    assert referrers("scenar2", scenarios) == ["scenar_abtest1", "scenar_condition1"]
    assert referrers("scenar_condition1", scenarios) == ["scenar_alias1"]
    assert referrers("scenar_alias1", scenarios) == []
    assert ab_tests_used(scenarios) == {"id123"}
    assert ab_tests_used({"c": case()}) == set()
