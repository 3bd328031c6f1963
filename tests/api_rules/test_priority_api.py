"""Runtime params > runtime scenario > default scenario, through HTTP."""

from __future__ import annotations

from typing import Any

from .rules_app import Api, RulesModel

ITEM = "item_to_items"
PROFILE = "profile_to_items"


def _trace(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    trace: dict[str, Any] = response.json()["scenario"]
    return trace


def test_lists_concatenate_runtime_then_scenario_then_default(
    api: Api, rules_model: RulesModel
) -> None:
    api.case(ITEM, "runtime_case", filters=["price:lt:40"], reranking=["price:diversity:2"])
    api.case(ITEM, "default_case", filters=["genres:neq:action"], reranking=["tag:diversity:1"])
    api.put_scenario(
        ITEM,
        "runtime_alias",
        {"scenario_type": "alias", "alias": {"scenario_name": "runtime_case"}},
    )
    api.set_default(ITEM, "default_case")
    response = api.similar(
        "item3",
        scenario="runtime_alias",
        filters="tag:empty",
        reranking="genres:diversity:1",
        include="scenario",
        amt=10,
    )
    trace = _trace(response)
    # the reference's example: runtime ["price:diversity:1"], default ["price:diversity:2"]
    assert trace["filters"] == ["tag:empty", "price:lt:40", "genres:neq:action"]
    assert trace["reranking"] == ["genres:diversity:1", "price:diversity:2", "tag:diversity:1"]
    assert [a["level"] for a in trace["applied"]] == ["runtime", "default"]
    assert trace["applied"][0]["path"] == ["runtime_alias", "runtime_case"]
    assert trace["case_scenarios"] == ["runtime_case", "default_case"]
    items = response.json()["items_id"]
    assert items
    for item in items:
        props = RulesModel.props(item)
        assert props["tag"] == "" and int(props["price"]) < 40 and props["genres"] != "action"
    # only the default (no runtime scenario): runtime params first, then the default
    trace = _trace(api.similar("item3", reranking="genres:diversity:1", include="scenario"))
    assert trace["reranking"] == ["genres:diversity:1", "tag:diversity:1"]
    assert trace["scenario"] == "default_case"


def test_exclude_rated_items_from_the_first_level_that_sets_it(
    api: Api, rules_model: RulesModel
) -> None:
    api.case(PROFILE, "keeps", exclude_rated_items=False)
    api.case(PROFILE, "silent")
    api.case(PROFILE, "excludes", exclude_rated_items=True)
    api.set_default(PROFILE, "excludes")

    def exclude(**params: Any) -> bool:
        flag: bool = _trace(api.items("u9", include="scenario", **params))["exclude_rated_items"]
        return flag

    assert exclude() is True  # the default sets it
    assert exclude(scenario="keeps") is False  # the runtime scenario comes first
    assert exclude(scenario="silent") is True  # not set there: the default's
    assert exclude(scenario="keeps", exclude_rated_items="true") is True  # runtime params first
    assert exclude(exclude_rated_items="false") is False
    assert exclude(skip_default_scenario="true") is False  # nobody sets it: the default value
    known = rules_model.history["u9"]
    assert not known & set(api.items("u9", amt=40).json()["items_id"])


def test_skip_default_scenario_and_no_double_application(api: Api, rules_model: RulesModel) -> None:
    api.case(ITEM, "comedy", filters=["genres:eq:comedy"])
    api.set_default(ITEM, "comedy")
    api.put_scenario(
        ITEM, "to_comedy", {"scenario_type": "alias", "alias": {"scenario_name": "comedy"}}
    )
    applied = api.similar("item3", include="scenario", amt=8).json()
    assert applied["scenario"]["case_scenarios"] == ["comedy"]
    assert applied["scenario"]["applied"][0]["level"] == "default"
    assert all(RulesModel.props(i)["genres"] == "comedy" for i in applied["items_id"])
    skipped = api.similar("item3", include="scenario", skip_default_scenario="true", amt=8).json()
    assert skipped["scenario"]["case_scenarios"] == []
    assert skipped["scenario"]["filters"] == []
    assert {RulesModel.props(i)["genres"] for i in skipped["items_id"]} != {"comedy"}
    # the default given at runtime (by name, or through an alias) is applied once
    for name in ("comedy", "to_comedy"):
        trace = _trace(api.similar("item3", scenario=name, include="scenario"))
        assert trace["filters"] == ["genres:eq:comedy"], name
        assert [a["level"] for a in trace["applied"]] == ["runtime"]
    # the model API applies the item_to_items default to GET, and skips it on request
    model = api.client.get(
        "/api/models/default/recommend",
        params={"itemId": "item3", "recommendationCount": 8},
        headers=api.recommend,
    )
    assert [r["recommendedItemId"] for r in model.json()] == applied["items_id"]
    assert all(set(r) == {"recommendedItemId", "score"} for r in model.json())
    unruled = api.client.get(
        "/api/models/default/recommend",
        params={"itemId": "item3", "recommendationCount": 8, "skip_default_scenario": "true"},
        headers=api.recommend,
    )
    assert [r["recommendedItemId"] for r in unruled.json()] == skipped["items_id"]


def test_default_scenarios_per_type_on_the_model_api(api: Api, rules_model: RulesModel) -> None:
    api.case("session_to_items", "session_drama", filters=["genres:eq:drama"])
    api.case(PROFILE, "profile_action", filters=["genres:eq:action"])
    api.set_default("session_to_items", "session_drama")
    api.set_default(PROFILE, "profile_action")
    url = "/api/models/default/recommend"
    with_events = api.client.post(
        url, params={"userId": "u9"}, json=[{"itemId": "item1"}], headers=api.recommend
    ).json()
    history_only = api.client.post(url, params={"userId": "u9"}, headers=api.recommend).json()
    item = api.client.get(url, params={"itemId": "item3"}, headers=api.recommend).json()
    assert with_events and history_only and item
    assert {RulesModel.props(r["recommendedItemId"])["genres"] for r in with_events} == {"drama"}
    assert {RulesModel.props(r["recommendedItemId"])["genres"] for r in history_only} == {"action"}
    assert len({RulesModel.props(r["recommendedItemId"])["genres"] for r in item}) > 1
