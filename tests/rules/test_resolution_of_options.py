"""``Resolution``: one set of rule options against one snapshot equals ``resolve_rules``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.errors import RecostackError
from recostack.rules import (
    Resolution,
    RuleOptions,
    RuntimeRules,
    Scenario,
    ScenarioSnapshot,
    meets_decisions,
    parse_scenario,
    resolve_rules,
)

AB_TESTS = {"t1": 0.5, "t2": 0.2}


def _body(kind: str, targets: list[int], i: int, draw: st.DrawFn) -> dict[str, Any]:
    pick = st.sampled_from(targets)
    if kind == "alias":
        return {"scenario_type": "alias", "alias": {"scenario_name": f"s{draw(pick)}"}}
    if kind == "ab":
        test = draw(st.sampled_from(["t1", "t2", "missing"]))
        refs = {"scenario_a": f"s{draw(pick)}", "scenario_b": f"s{draw(pick)}"}
        return {"scenario_type": "ab_test", "ab_test": {"id": test, **refs}}
    if kind == "cond":
        condition = {
            "condition_type": "user_function",
            "if": {"function_name": "n_ratings", "op": "gte", "value": draw(st.integers(0, 4))},
            "then": f"s{draw(pick)}",
            "else": f"s{draw(pick)}",
        }
        return {"scenario_type": "condition", "condition": condition}
    return {"scenario_type": "case", "case": {"filters": [f"p:eq:{i}"]}}


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Scenario]:
    """Scenario graphs of every type, with dangling references and cycles now and then."""
    n = draw(st.integers(1, 8))
    scenarios: dict[str, Scenario] = {}
    for i in range(n):
        targets = list(range(i + 1, n + 1)) if draw(st.booleans()) else list(range(n + 1))
        kind = draw(st.sampled_from(["case", "alias", "ab", "cond"]))
        scenarios[f"s{i}"] = parse_scenario(_body(kind, targets, i, draw))
    return scenarios


def _outcome(resolve: Any) -> object:
    try:
        return resolve()
    except RecostackError as error:
        return (type(error), error.message)


@settings(max_examples=200, deadline=None)
@given(
    scenarios=graphs(),
    names=st.lists(st.sampled_from(["s0", "s1", "s2", "s3", "s8", None]), min_size=2, max_size=2),
    skip=st.booleans(),
    users=st.lists(st.sampled_from(["alice", "bob", "carol", None]), min_size=1, max_size=6),
    n_ratings=st.integers(0, 5),
)
def test_a_resolution_equals_resolve_rules(
    scenarios: dict[str, Scenario],
    names: list[str | None],
    skip: bool,
    users: list[str | None],
    n_ratings: int,
) -> None:
    scenario, default = names
    snapshot = ScenarioSnapshot(
        "stamp",
        {"session_to_items": scenarios},
        {"session_to_items": default} if default else {},
        AB_TESTS,
    )
    runtime = RuntimeRules(filters=("x:empty",))
    options = RuleOptions("session_to_items", runtime, scenario, skip)
    for user in users:
        expected = _outcome(
            lambda user=user: resolve_rules(
                runtime,
                scenario,
                default,
                scenarios,
                user_id=user,
                n_ratings=n_ratings,
                ab_tests=AB_TESTS,
                skip_default_scenario=skip,
            )
        )
        got = _outcome(lambda user=user: Resolution(snapshot, options).rules(user, n_ratings))
        assert got == expected


def _alias(target: str) -> Scenario:
    return parse_scenario({"scenario_type": "alias", "alias": {"scenario_name": target}})


def _ab(a: str, b: str) -> Scenario:
    body = {"scenario_type": "ab_test", "ab_test": {"id": "t1", "scenario_a": a, "scenario_b": b}}
    return parse_scenario(body)


CASE = parse_scenario({"scenario_type": "case", "case": {"filters": ["p:eq:1"]}})


def _snapshot(scenarios: dict[str, Scenario], default: str | None = None) -> ScenarioSnapshot:
    defaults = {"item_to_items": default} if default else {}
    return ScenarioSnapshot("stamp", {"item_to_items": scenarios}, defaults, AB_TESTS)


def test_rules_that_depend_on_nobody_are_resolved_once() -> None:
    scenarios = {"entry": _alias("case"), "case": CASE}
    resolution = Resolution(_snapshot(scenarios), RuleOptions("item_to_items", scenario="entry"))
    assert resolution.fixed is not None and resolution.fixed.case_scenarios == ("case",)
    assert resolution.rules("anyone") is resolution.fixed
    assert not resolution.counts_ratings


def test_a_condition_on_the_way_needs_the_number_of_ratings() -> None:
    condition = {
        "condition_type": "user_function",
        "if": {"function_name": "n_ratings", "op": "gte", "value": 3},
        "then": "case",
        "else": "other",
    }
    scenarios = {
        "cond": parse_scenario({"scenario_type": "condition", "condition": condition}),
        "case": CASE,
        "other": parse_scenario({"scenario_type": "case", "case": {"filters": ["p:eq:2"]}}),
    }
    resolution = Resolution(_snapshot(scenarios, default="cond"), RuleOptions("item_to_items"))
    assert resolution.counts_ratings and resolution.fixed is None
    assert resolution.rules("u", 3).case_scenarios == ("case",)
    assert resolution.rules("u", 2).case_scenarios == ("other",)


def test_a_deployments_default_scenario_replaces_the_stored_one() -> None:
    other = parse_scenario({"scenario_type": "case", "case": {"filters": ["p:eq:2"]}})
    scenarios = {"case": CASE, "other": other}
    snapshot = _snapshot(scenarios, default="case")
    own = Resolution(snapshot, RuleOptions("item_to_items", default_scenario="other"))
    assert own.rules(None).case_scenarios == ("other",)
    skipped = RuleOptions("item_to_items", default_scenario="other", skip_default_scenario=True)
    assert Resolution(snapshot, skipped).rules(None).case_scenarios == ()


@pytest.mark.timeout(30)  # an exponential walk takes minutes: fail fast, not stall the suite
def test_a_deep_tree_of_ab_tests_resolves_at_once() -> None:
    """Regression: 30 levels of A/B tests whose groups share the next level are 2**30 paths;
    every walk over the graph must be linear in its size."""
    scenarios: dict[str, Scenario] = {f"l{i}": _ab(f"l{i + 1}", f"l{i + 1}") for i in range(30)}
    scenarios["l30"] = CASE
    resolution = Resolution(_snapshot(scenarios), RuleOptions("item_to_items", scenario="l0"))
    assert meets_decisions(["l0"], scenarios) == (True, False)
    for user in ("alice", "bob", None):
        assert resolution.rules(user).case_scenarios == ("l30",)


@pytest.mark.parametrize(("length", "ok"), [(32, True), (33, False)])
def test_a_chain_may_be_32_scenarios_long(length: int, ok: bool) -> None:
    scenarios = {f"s{i}": _alias(f"s{i + 1}") for i in range(length - 1)}
    scenarios[f"s{length - 1}"] = CASE
    options = RuleOptions("item_to_items", scenario="s0")
    got = _outcome(lambda: Resolution(_snapshot(scenarios), options).rules("alice"))
    if ok:
        assert got.case_scenarios == (f"s{length - 1}",)  # type: ignore[attr-defined]
    else:
        assert isinstance(got, tuple) and "longer than 32" in str(got[1])
