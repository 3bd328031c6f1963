"""The reference's worked example, as JSON bodies (shared by the scenario tests)."""

from __future__ import annotations

from typing import Any

from recostack.rules import Scenario, parse_scenario

BODIES: dict[str, dict[str, Any]] = {
    "scenar1": {"scenario_type": "case", "case": {"filters": ["genres:eq:comedy"]}},
    "scenar2": {"scenario_type": "case", "case": {"reranking": ["genres:diversity:0.5"]}},
    "scenar_abtest1": {
        "scenario_type": "ab_test",
        "ab_test": {"id": "id123", "scenario_a": "scenar1", "scenario_b": "scenar2"},
    },
    "scenar_condition1": {
        "scenario_type": "condition",
        "condition": {
            "condition_type": "user_function",
            "if": {"function_name": "n_ratings", "op": "gte", "value": 21},
            "then": "scenar_abtest1",
            "else": "scenar2",
        },
    },
    "scenar_alias1": {"scenario_type": "alias", "alias": {"scenario_name": "scenar_condition1"}},
}
AB_TESTS = {"id123": 0.3333}


def example() -> dict[str, Scenario]:
    return {name: parse_scenario(body) for name, body in BODIES.items()}


def case(
    filters: list[str] | None = None,
    reranking: list[str] | None = None,
    exclude_rated_items: bool | None = None,
) -> Scenario:
    rules: dict[str, Any] = {"filters": filters or [], "reranking": reranking or []}
    if exclude_rated_items is not None:
        rules["exclude_rated_items"] = exclude_rated_items
    return parse_scenario({"scenario_type": "case", "case": rules})


def alias(target: str) -> Scenario:
    return parse_scenario({"scenario_type": "alias", "alias": {"scenario_name": target}})
