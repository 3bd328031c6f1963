"""The reference's worked example, through HTTP: whatever is used, one case scenario applies."""

from __future__ import annotations

from recostack.rules import ab_group

from .rules_app import Api, RulesModel

PROFILE = "profile_to_items"


def test_every_scenario_of_the_example_ends_at_one_of_the_two_cases(
    api: Api, rules_model: RulesModel
) -> None:
    api.case(PROFILE, "scenar1", filters=["genres:eq:comedy"])
    api.case(PROFILE, "scenar2", reranking=["genres:diversity:0.5"])
    test_id = api.ab_test(0.3333, "ab_test101")
    bodies = {
        "scenar_abtest1": {
            "scenario_type": "ab_test",
            "ab_test": {"id": test_id, "scenario_a": "scenar1", "scenario_b": "scenar2"},
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
        "scenar_alias1": {
            "scenario_type": "alias",
            "alias": {"scenario_name": "scenar_condition1"},
        },
    }
    for name, body in bodies.items():
        assert api.put_scenario(PROFILE, name, body).status_code == 201
    groups = set()
    for u in range(16):  # u0..u7 have 22 ratings, the others 6
        user = f"u{u}"
        group = ab_group(test_id, user, 0.3333)
        via_ab = "scenar1" if group == "A" else "scenar2"
        expected = {
            "scenar1": "scenar1",
            "scenar2": "scenar2",
            "scenar_abtest1": via_ab,
            "scenar_condition1": via_ab if u < 8 else "scenar2",
            "scenar_alias1": via_ab if u < 8 else "scenar2",
        }
        for name, case in expected.items():
            response = api.items(user, scenario=name, include="scenario", amt=5)
            assert response.status_code == 200, response.text
            body = response.json()
            trace = body["scenario"]
            assert trace["case_scenarios"] == [case], (user, name)
            assert trace["scenario"] == name
            items = body["items_id"]
            assert 0 < len(items) <= 5
            if case == "scenar1":
                assert trace["filters"] == ["genres:eq:comedy"]
                assert all(RulesModel.props(i)["genres"] == "comedy" for i in items)
            else:
                assert trace["reranking"] == ["genres:diversity:0.5"]
            if "abtest" in str(trace["applied"][0]["path"]):
                assert trace["ab_test"] == {
                    "id": test_id,
                    "group": group,
                    "scenario": "scenar_abtest1",
                }
                groups.add(group)
    assert groups == {"A", "B"}
