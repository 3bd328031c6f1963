"""``/api/scenarios``, ``/api/ab-tests/params``, ``/api/scenarios-default``: CRUD and refusals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from recostack.api.inputs import FILTER_PATTERN, RERANK_PATTERN
from recostack.errors import Conflict
from recostack.rules import find_cycle, parse_scenario
from recostack.store.scenario_repository import ScenarioStore

from .rules_app import Api

State = Callable[[], dict[str, Any]]
ITEM = "item_to_items"


def alias(target: str) -> dict[str, Any]:
    return {"scenario_type": "alias", "alias": {"scenario_name": target}}


def test_scenario_crud(api: Api) -> None:
    body = {"scenario_type": "case", "case": {"filters": ["genres:eq:comedy"]}}
    created = api.put_scenario(ITEM, "s1", body)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "s1" and created.json()["case"]["filters"] == [
        "genres:eq:comedy"
    ]
    replaced = api.put_scenario(ITEM, "s1", {**body, "case": {"exclude_rated_items": True}})
    assert replaced.status_code == 200
    got = api.client.get(f"/api/scenarios/{ITEM}/s1", headers=api.admin).json()
    assert got["scenario_type"] == "case"
    assert got["case"] == {"filters": [], "reranking": [], "exclude_rated_items": True}
    api.put_scenario(ITEM, "a0", alias("s1"))
    listed = api.client.get(f"/api/scenarios/{ITEM}", headers=api.admin).json()
    assert [s["name"] for s in listed] == ["a0", "s1"]
    assert api.client.get("/api/scenarios/profile_to_items", headers=api.admin).json() == []
    assert api.client.delete(f"/api/scenarios/{ITEM}/a0", headers=api.admin).status_code == 204
    assert api.client.delete(f"/api/scenarios/{ITEM}/s1", headers=api.admin).status_code == 204
    missing = api.client.get(f"/api/scenarios/{ITEM}/s1", headers=api.admin)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert api.client.delete(f"/api/scenarios/{ITEM}/s1", headers=api.admin).status_code == 404


def test_bad_bodies_and_types_are_400(api: Api, rules_state: State) -> None:
    before = rules_state()
    bodies: list[tuple[str, dict[str, Any]]] = [
        ("item_to_items", {"scenario_type": "case", "case": {"filters": ["genres:like:x"]}}),
        ("item_to_items", {"scenario_type": "case", "case": {"filters": [""]}}),
        ("item_to_items", {"scenario_type": "case", "case": {"reranking": ["a:b"]}}),
        ("item_to_items", {"scenario_type": "case", "case": {"reranking": ["a:diversity:-1"]}}),
        # JSON booleans only: pydantic would otherwise read 0 as false
        ("item_to_items", {"scenario_type": "case", "case": {"exclude_rated_items": 0}}),
        ("item_to_items", {"scenario_type": "case", "case": {"exclude_rated_items": "yes"}}),
        ("item_to_items", {"scenario_type": "nope"}),
        ("item_to_items", {"scenario_type": "alias", "alias": {}}),
        ("users_to_items", {"scenario_type": "case", "case": {}}),
    ]
    for reco_type, body in bodies:
        response = api.put_scenario(reco_type, "x", body)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid"
    assert api.client.get("/api/scenarios/nope", headers=api.admin).status_code == 400
    assert rules_state() == before


def test_the_rule_grammars_are_in_the_document_and_their_messages(api: Api) -> None:
    """The filter and reranking grammars are patterns of the body, named in words when broken."""
    case = {"scenario_type": "case", "case": {"filters": ["genres eq comedy"]}}
    refused = api.put_scenario(ITEM, "x", case).json()
    assert refused["field"] == "case.case.filters[0]"
    assert "expected property:op:value" in refused["message"]
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    rules = schemas["CaseRulesBody"]["properties"]
    assert rules["filters"]["items"]["pattern"] == FILTER_PATTERN
    assert rules["reranking"]["items"]["pattern"] == RERANK_PATTERN


def test_scenarios_need_the_admin_key(api: Api) -> None:
    body = {"scenario_type": "case", "case": {}}
    for call in (
        lambda h: api.client.put(f"/api/scenarios/{ITEM}/s", json=body, headers=h),
        lambda h: api.client.get(f"/api/scenarios/{ITEM}", headers=h),
        lambda h: api.client.post("/api/ab-tests/params", json={"name": "t"}, headers=h),
        lambda h: api.client.put(f"/api/scenarios-default/{ITEM}", json={"name": "s"}, headers=h),
    ):
        assert call(api.recommend).status_code == 403
        assert call({}).status_code == 401


def test_refused_writes_store_nothing(api: Api, rules_state: State) -> None:
    api.case(ITEM, "leaf")
    api.put_scenario(ITEM, "a", alias("leaf"))
    api.put_scenario(ITEM, "b", alias("a"))
    api.case("profile_to_items", "other")
    test_id = api.ab_test(0.5)
    api.put_scenario(
        ITEM,
        "ab",
        {
            "scenario_type": "ab_test",
            "ab_test": {"id": test_id, "scenario_a": "a", "scenario_b": "leaf"},
        },
    )
    api.set_default(ITEM, "leaf")
    before = rules_state()

    def refused(response: Any, status: int = 409) -> dict[str, Any]:
        assert response.status_code == status, response.text
        assert rules_state() == before
        body: dict[str, Any] = response.json()
        return body

    # a cycle, reported with its path
    cycle = refused(api.put_scenario(ITEM, "a", alias("b")))
    assert cycle["detail"]["cycle"] == ["a", "b", "a"]
    assert "a -> b -> a" in cycle["message"]
    self_loop = refused(api.put_scenario(ITEM, "c", alias("c")))
    assert self_loop["detail"]["cycle"] == ["c", "c"]
    # a dangling reference, a reference to another type's scenario
    assert "nothing" in refused(api.put_scenario(ITEM, "d", alias("nothing")))["message"]
    assert "other" in refused(api.put_scenario(ITEM, "d", alias("other")))["message"]
    # an unknown A/B test
    unknown_ab = {
        "scenario_type": "ab_test",
        "ab_test": {"id": "no-such-test", "scenario_a": "a", "scenario_b": "leaf"},
    }
    assert "no-such-test" in refused(api.put_scenario(ITEM, "e", unknown_ab))["message"]
    # deleting what is referred to, the default, an A/B test in use
    referred = refused(api.client.delete(f"/api/scenarios/{ITEM}/a", headers=api.admin))
    assert referred["detail"]["referrers"] == ["ab", "b"]
    assert "ab, b" in referred["message"]
    default = refused(api.client.delete(f"/api/scenarios/{ITEM}/leaf", headers=api.admin))
    assert "referred to by a, ab" in default["message"]
    in_use = refused(api.client.delete(f"/api/ab-tests/params/{test_id}", headers=api.admin))
    assert in_use["detail"]["scenarios"] == [f"{ITEM}/ab"]
    # a default that does not exist
    refused(
        api.client.put(f"/api/scenarios-default/{ITEM}", json={"name": "zzz"}, headers=api.admin),
        404,
    )
    refused(
        api.client.put(
            "/api/scenarios-default/profile_to_items", json={"name": "leaf"}, headers=api.admin
        ),
        404,
    )


def test_the_default_scenario_cannot_be_deleted(api: Api) -> None:
    api.case(ITEM, "only")
    api.set_default(ITEM, "only")
    refused = api.client.delete(f"/api/scenarios/{ITEM}/only", headers=api.admin)
    assert refused.status_code == 409 and "default" in refused.json()["message"]
    assert api.client.delete(f"/api/scenarios-default/{ITEM}", headers=api.admin).status_code == 204
    assert api.client.delete(f"/api/scenarios/{ITEM}/only", headers=api.admin).status_code == 204


def test_ab_test_params(api: Api) -> None:
    created = api.client.post(
        "/api/ab-tests/params",
        json={"name": "ab_test101", "probability_a": 0.3333},
        headers=api.admin,
    )
    assert created.status_code == 201
    assert set(created.json()) == {"id"}
    test_id = created.json()["id"]
    second = api.ab_test(1.0, "second")
    one = api.client.get(f"/api/ab-tests/params/{test_id}", headers=api.admin).json()
    assert (one["id"], one["name"], one["probability_a"]) == (test_id, "ab_test101", 0.3333)
    listed = api.client.get("/api/ab-tests/params", headers=api.admin).json()
    assert {t["id"] for t in listed} == {test_id, second}
    for bad in (
        {"name": "x", "probability_a": 1.5},
        {"name": "x"},
        {"name": "", "probability_a": 0},
        # a JSON number only: pydantic would otherwise read false as 0 and "0.5" as 0.5
        {"name": "x", "probability_a": False},
        {"name": "x", "probability_a": "0.5"},
    ):
        response = api.client.post("/api/ab-tests/params", json=bad, headers=api.admin)
        assert response.status_code == 400, response.text
    assert (
        api.client.delete(f"/api/ab-tests/params/{test_id}", headers=api.admin).status_code == 204
    )
    assert api.client.get(f"/api/ab-tests/params/{test_id}", headers=api.admin).status_code == 404
    assert (
        api.client.delete(f"/api/ab-tests/params/{test_id}", headers=api.admin).status_code == 404
    )


def test_default_scenario_endpoints(api: Api) -> None:
    url = f"/api/scenarios-default/{ITEM}"
    assert api.client.get(url, headers=api.admin).status_code == 404
    api.case(ITEM, "first")
    api.case(ITEM, "second")
    api.set_default(ITEM, "first")
    assert api.client.get(url, headers=api.admin).json() == {"reco_type": ITEM, "name": "first"}
    patched = api.client.patch(url, json={"name": "second"}, headers=api.admin)
    assert patched.status_code == 200
    assert api.client.get(url, headers=api.admin).json()["name"] == "second"
    assert api.client.delete(url, headers=api.admin).status_code == 204
    assert api.client.delete(url, headers=api.admin).status_code == 404


def test_concurrent_writes_cannot_make_a_cycle(api: Api, app: FastAPI) -> None:
    """Writers are serialised by the stamp row, so each checks what the other committed."""
    store = app.state.scenario_store
    leaf = parse_scenario({"scenario_type": "case", "case": {}})
    for name in ("a", "b"):
        store.put_scenario(ITEM, name, leaf)
    for _ in range(4):
        start = threading.Barrier(2)
        outcomes: list[str] = []
        threads = [
            threading.Thread(target=_write, args=(store, start, outcomes, name, target))
            for name, target in (("a", "b"), ("b", "a"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes) == ["refused", "stored"]
        stored = {s.name: s.scenario for s in store.list_scenarios(ITEM)}
        assert find_cycle(stored) is None
        for name in ("a", "b"):
            store.put_scenario(ITEM, name, leaf)


def _write(
    store: ScenarioStore, start: threading.Barrier, outcomes: list[str], name: str, target: str
) -> None:
    start.wait()
    try:
        store.put_scenario(ITEM, name, parse_scenario(alias(target)))
        outcomes.append("stored")
    except Conflict:
        outcomes.append("refused")
