"""Filters, reranking and exclude_rated_items given at runtime, on every endpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .rules_app import Api, RulesModel

Check = Callable[[dict[str, str]], bool]

#: one filter per op, and what an item passing it looks like
FILTERS: dict[str, Check] = {
    "genres:eq:comedy": lambda p: p["genres"] == "comedy",
    "genres:neq:comedy": lambda p: p["genres"] != "comedy",
    "price:gt:20": lambda p: float(p["price"]) > 20,
    "price:gte:20": lambda p: float(p["price"]) >= 20,
    "price:lt:10": lambda p: float(p["price"]) < 10,
    "price:lte:10": lambda p: float(p["price"]) <= 10,
    "genres:in:drama,action": lambda p: p["genres"] in ("drama", "action"),
    "genres:notin:drama,action": lambda p: p["genres"] not in ("drama", "action"),
    "tag:empty": lambda p: p["tag"] == "",
    "tag:notempty": lambda p: p["tag"] != "",
}


def _ids(response: object) -> list[str]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    if isinstance(body, list):  # the model API
        return [r["recommendedItemId"] for r in body]
    return list(body["items_id"])


def test_each_filter_op_on_every_endpoint(api: Api, rules_model: RulesModel) -> None:
    model_url = f"/api/models/{rules_model.id}/recommend"
    events = [{"itemId": "item1"}, {"itemId": "item2"}]
    for text, check in FILTERS.items():
        answers = {
            "item": _ids(api.similar("item3", filters=text, amt=8)),
            "user": _ids(api.items("u9", filters=text, amt=8)),
            "session": _ids(api.session(events, filters=text, amt=8)),
            "model-get": _ids(
                api.client.get(
                    model_url,
                    params={"itemId": "item3", "filters": text, "recommendationCount": 8},
                    headers=api.recommend,
                )
            ),
            "model-post": _ids(
                api.client.post(
                    "/api/models/default/recommend",
                    params={"filters": text, "userId": "u9"},
                    json=events,
                    headers=api.recommend,
                )
            ),
        }
        for where, items in answers.items():
            assert items, (text, where)
            assert all(check(RulesModel.props(i)) for i in items), (text, where, items)
        # filters apply before the cut: still 8 items when 8 pass
        assert len(answers["item"]) == 8, text


def test_filters_compose_and_repeat(api: Api, rules_model: RulesModel) -> None:
    items = _ids(api.similar("item3", filters=["genres:eq:drama", "price:lt:30"], amt=20))
    assert items
    assert all(
        RulesModel.props(i)["genres"] == "drama" and int(RulesModel.props(i)["price"]) < 30
        for i in items
    )


def test_reranking_diversifies_and_composes(api: Api, rules_model: RulesModel) -> None:
    plain = _ids(api.similar("item3", amt=6))
    diverse = _ids(api.similar("item3", amt=6, reranking="genres:diversity:1"))
    assert sorted(diverse) != [] and len(diverse) == 6
    genres = [RulesModel.props(i)["genres"] for i in diverse]
    assert len(set(genres[:3])) == 3  # weight 1: values interleave
    assert diverse[0] == plain[0]  # the best item stays first
    both = api.similar(
        "item3",
        amt=6,
        reranking=["genres:diversity:1", "tag:diversity:0.5"],
        include="scenario",
    )
    assert both.json()["scenario"]["reranking"] == ["genres:diversity:1", "tag:diversity:0.5"]
    model = api.client.get(
        "/api/models/default/recommend",
        params={"itemId": "item3", "recommendationCount": 6, "reranking": "genres:diversity:1"},
        headers=api.recommend,
    )
    assert _ids(model) == diverse


def test_exclude_rated_items(api: Api, rules_model: RulesModel) -> None:
    known = rules_model.history["u9"]
    for endpoint in (
        lambda **p: api.items("u9", **p),
        lambda **p: api.similar("item3", user_id="u9", **p),
        lambda **p: api.session([{"itemId": "item44"}], user_id="u9", **p),
    ):
        items = _ids(endpoint(exclude_rated_items="true", amt=30))
        assert items and not known & set(items)
    session = _ids(
        api.session([{"itemId": "item1"}, {"itemId": "item2"}], exclude_rated_items=True, amt=40)
    )
    assert session and not {"item1", "item2"} & set(session)
    with_seen = _ids(api.similar("item3", user_id="u9", amt=40))
    assert known & set(with_seen)  # without the option the user's items may come back


def test_the_fast_path_answers_exactly_as_fastapi(api: Api, rules_model: RulesModel) -> None:
    """A plainly valid rules query is bound by hand; an unusual spelling goes through FastAPI."""
    url = f"/api/models/{rules_model.id}/recommend"
    plain = {"itemId": "item3", "filters": "price:lt:30", "exclude_rated_items": "true"}
    unusual = {**plain, "exclude_rated_items": "yes", "userId": "u9"}
    fast = api.client.get(url, params={**plain, "userId": "u9"}, headers=api.recommend)
    slow = api.client.get(url, params=unusual, headers=api.recommend)
    assert fast.status_code == slow.status_code == 200
    assert fast.json() == slow.json()
    assert not rules_model.history["u9"] & set(_ids(fast))


@pytest.mark.parametrize(
    ("params", "field", "named", "status"),
    [
        # malformed: the document's grammar refuses them
        ({"filters": "genres:like:comedy"}, "filters", "genres:like:comedy", 400),
        ({"filters": "genres"}, "filters", "genres", 400),
        ({"filters": "genres:in:"}, "filters", "genres:in:", 400),
        ({"reranking": "genres:diversity:x"}, "reranking", "genres:diversity:x", 400),
        ({"amt": 0}, "amt", None, 400),
        ({"amt": 101}, "amt", None, 400),
        ({"exclude_rated_items": "maybe"}, "exclude_rated_items", None, 400),
        # well-formed, but on a property this model's catalog does not have
        ({"filters": "colour:eq:red"}, "filters", "colour:eq:red", 422),
        ({"reranking": "colour:diversity:1"}, "reranking", "colour:diversity:1", 422),
    ],
)
def test_bad_rules_are_refused_naming_them(
    api: Api,
    rules_model: RulesModel,
    params: dict[str, object],
    field: str,
    named: str | None,
    status: int,
) -> None:
    responses = [api.similar("item3", **params), api.items("u1", **params)]
    if field != "amt":
        responses.append(
            api.client.get(
                "/api/models/default/recommend",
                params={"itemId": "item3", **params},
                headers=api.recommend,
            )
        )
    for response in responses:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["error"] == ("invalid" if status == 400 else "unprocessable")
        assert body["field"] == field
        if named is not None:
            assert named in body["message"]


def test_unknown_scenario_or_model_is_404(api: Api, rules_model: RulesModel) -> None:
    for response in (
        api.similar("item3", scenario="nope"),
        api.client.get(
            "/api/models/default/recommend",
            params={"itemId": "item3", "scenario": "nope"},
            headers=api.recommend,
        ),
        api.similar("item3", model_id="00000000-0000-0000-0000-000000000000"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "not_found"
