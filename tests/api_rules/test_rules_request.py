"""Per-request resolution with its per-snapshot memo equals ``resolve_rules`` itself."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.data.catalog import Catalog
from recostack.data.ids import Vocabulary
from recostack.data.usage import UsageData
from recostack.errors import RecostackError
from recostack.rules import RuntimeRules, Scenario, parse_scenario, resolve_rules
from recostack.serving import rules_request
from recostack.serving.rules_request import RulesRequest, resolve_request_rules
from recostack.store.scenario_repository import AbTestParams, ScenarioSnapshot
from recostack.store.tables import utcnow
from recostack.training.parameters import parse_training_parameters
from recostack.training.pipeline import fit_model
from recostack.training.trained_model import TrainedModel, UsageEvent

N_ITEMS = 12


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    rng = np.random.default_rng(5)
    n = 600
    ids = [f"i{i}" for i in range(N_ITEMS)]
    usage = UsageData(
        users=Vocabulary([f"u{i}" for i in range(30)]),
        items=Vocabulary(ids),
        user_index=rng.integers(0, 30, n).astype(np.int32),
        item_index=rng.integers(0, N_ITEMS, n).astype(np.int32),
        timestamp=np.full(n, 1_700_000_000, dtype=np.int64),
        weight=np.ones(n, dtype=np.float32),
    )
    catalog = Catalog(
        items=Vocabulary(ids),
        names=np.array(ids),
        categories=np.array(["c"] * N_ITEMS),
        descriptions=np.array([""] * N_ITEMS),
        features={},
    )
    params = parse_training_parameters({"usageRelativePath": "u", "supportThreshold": 3})
    return fit_model(params, usage, catalog).model


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


@settings(max_examples=200, deadline=None)
@given(
    scenarios=graphs(),
    names=st.lists(st.sampled_from(["s0", "s1", "s2", "s3", "s8", None]), min_size=2, max_size=2),
    skip=st.booleans(),
    users=st.lists(st.sampled_from(["alice", "bob", "carol", None]), min_size=1, max_size=6),
    n_events=st.integers(0, 5),
)
def test_memoized_resolution_equals_resolve_rules(
    model: TrainedModel,
    scenarios: dict[str, Scenario],
    names: list[str | None],
    skip: bool,
    users: list[str | None],
    n_events: int,
) -> None:
    scenario, default = names
    now = utcnow()
    snapshot = ScenarioSnapshot(
        "stamp",
        {"session_to_items": scenarios},
        {"session_to_items": default} if default else {},
        {"t1": AbTestParams("t1", "t1", 0.5, now), "t2": AbTestParams("t2", "t2", 0.2, now)},
    )
    runtime = RuntimeRules(filters=("x:empty",))
    events = [UsageEvent(item_id=f"i{i}") for i in range(n_events)]
    for user in users * 2:  # the second round is answered from the memo
        request = RulesRequest("session_to_items", runtime, scenario, skip, None, user)
        try:
            expected: object = resolve_rules(
                runtime,
                scenario,
                default,
                scenarios,
                user_id=user,
                n_ratings=n_events,
                ab_tests=snapshot.probabilities,
                skip_default_scenario=skip,
            )
        except RecostackError as error:
            expected = (type(error), error.message)
        try:
            got: object = resolve_request_rules(model, snapshot, request, events)
        except RecostackError as error:
            got = (type(error), error.message)
        assert got == expected


def _alias(target: str) -> Scenario:
    return parse_scenario({"scenario_type": "alias", "alias": {"scenario_name": target}})


def _ab(a: str, b: str) -> Scenario:
    body = {"scenario_type": "ab_test", "ab_test": {"id": "t1", "scenario_a": a, "scenario_b": b}}
    return parse_scenario(body)


CASE = parse_scenario({"scenario_type": "case", "case": {"filters": ["p:eq:1"]}})


def _resolve_both(
    model: TrainedModel, scenarios: dict[str, Scenario], name: str, user: str
) -> tuple[object, object]:
    snapshot = ScenarioSnapshot(
        "stamp", {"item_to_items": scenarios}, {}, {"t1": AbTestParams("t1", "t1", 0.5, utcnow())}
    )
    results: list[object] = []
    for _ in range(2):  # the second answer comes from the memo
        request = RulesRequest("item_to_items", scenario=name, user_id=user)
        try:
            results.append(resolve_request_rules(model, snapshot, request).case_scenarios)
        except RecostackError as error:
            results.append((type(error), error.message))
    return results[0], results[1]


@pytest.mark.parametrize(("length", "ok"), [(32, True), (33, False)])
def test_a_chain_may_be_32_scenarios_long(model: TrainedModel, length: int, ok: bool) -> None:
    scenarios = {f"s{i}": _alias(f"s{i + 1}") for i in range(length - 1)}
    scenarios[f"s{length - 1}"] = CASE
    first, memo = _resolve_both(model, scenarios, "s0", "alice")
    assert first == memo
    if ok:
        assert first == (f"s{length - 1}",)
    else:
        assert isinstance(first, tuple) and "longer than 32" in str(first[1])


def test_a_shared_sub_chain_counts_its_length_on_every_path(model: TrainedModel) -> None:
    # root -> A/B: group A goes straight to the shared chain "m0" (25 long), group B
    # first through 10 aliases: 1 + 10 + 25 = 36 > 32 scenarios, an error for B only
    scenarios: dict[str, Scenario] = {"root": _ab("m0", "b0")}
    scenarios.update({f"b{i}": _alias(f"b{i + 1}") for i in range(9)})
    scenarios["b9"] = _alias("m0")
    scenarios.update({f"m{i}": _alias(f"m{i + 1}") for i in range(24)})
    scenarios["m24"] = CASE
    outcomes = {}
    for user in [f"u{i}" for i in range(40)]:
        first, memo = _resolve_both(model, scenarios, "root", user)
        assert first == memo
        outcomes[isinstance(first, tuple) and first == ("m24",)] = first
    assert set(outcomes) == {True, False}  # both groups met: one answers, one errs
    assert "longer than 32" in str(outcomes[False])


def test_a_deep_tree_of_ab_tests_resolves_at_once(model: TrainedModel) -> None:
    # 30 levels, each A/B test's two groups leading to the next level: 2**30 paths
    scenarios: dict[str, Scenario] = {f"l{i}": _ab(f"l{i + 1}", f"l{i + 1}") for i in range(30)}
    scenarios["l30"] = CASE
    first, memo = _resolve_both(model, scenarios, "l0", "bob")
    assert first == memo == ("l30",)


def test_an_ab_test_between_two_cases_resolves_as_resolve_rules(model: TrainedModel) -> None:
    # the resolver's tree of decisions keeps group A's and group B's rules
    other = parse_scenario({"scenario_type": "case", "case": {"filters": ["p:eq:2"]}})
    scenarios = {"a": CASE, "b": other, "split": _ab("a", "b"), "entry": _alias("split")}
    snapshot = ScenarioSnapshot(
        "stamp", {"item_to_items": scenarios}, {}, {"t1": AbTestParams("t1", "t1", 0.3, utcnow())}
    )
    groups = set()
    for n in range(200):
        user = f"user{n}" if n % 10 else None  # anonymous requests are group A
        expected = resolve_rules(
            RuntimeRules(),
            "entry",
            None,
            scenarios,
            user_id=user,
            n_ratings=0,
            ab_tests={"t1": 0.3},
        )
        request = RulesRequest("item_to_items", scenario="entry", user_id=user)
        got = resolve_request_rules(model, snapshot, request)
        assert got == expected
        groups.add(got.case_scenarios)
    assert groups == {("a",), ("b",)}


def test_a_tree_of_decisions_past_its_budget_starts_over(
    model: TrainedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for 3 decisions, an 8-path tree is rebuilt again and again; answers stay right."""
    monkeypatch.setattr(rules_request, "MAX_MEMO", 3)
    scenarios: dict[str, Scenario] = {}
    for path in ["", "a", "b", "aa", "ab", "ba", "bb"]:  # a binary tree, one A/B test per level
        body = {"id": f"t{len(path)}", "scenario_a": f"n{path}a", "scenario_b": f"n{path}b"}
        scenarios[f"n{path}"] = parse_scenario({"scenario_type": "ab_test", "ab_test": body})
    for leaf in ["aaa", "aab", "aba", "abb", "baa", "bab", "bba", "bbb"]:
        case = {"filters": [f"p:eq:{int(leaf.replace('a', '0').replace('b', '1'), 2)}"]}
        scenarios[f"n{leaf}"] = parse_scenario({"scenario_type": "case", "case": case})
    tests = {f"t{i}": AbTestParams(f"t{i}", f"t{i}", 0.5, utcnow()) for i in range(3)}
    snapshot = ScenarioSnapshot("stamp", {"item_to_items": scenarios}, {}, tests)
    seen = set()
    for n in range(240):
        user = f"user{n % 80}"
        expected = resolve_rules(
            RuntimeRules(),
            "n",
            None,
            scenarios,
            user_id=user,
            n_ratings=0,
            ab_tests=snapshot.probabilities,
        )
        request = RulesRequest("item_to_items", scenario="n", user_id=user)
        got = resolve_request_rules(model, snapshot, request)
        assert got == expected
        seen.add(got.filters)
    assert len(seen) == 8  # every path was taken
