"""``/api/ab-tests/params``: the parameters of A/B tests (admin key).

``POST`` {name, probability_a} answers ``{"id": ...}``; ab_test scenarios
refer to that id. A user's group is a deterministic hash of (test id, user
id) (:mod:`recostack.rules.ab_testing`), so every scenario naming the test
puts a user in the same group on every endpoint and in every process. A test
that a scenario uses cannot be deleted (409 naming the scenarios).
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Response

from recostack.api.deps import AdminKey, ScenarioStoreDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import AbTestId
from recostack.api.rules_schemas import AbTestCreate, AbTestCreated, AbTestPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/ab-tests/params", tags=["A/B tests"], responses=ERROR_RESPONSES)

TestId = Annotated[AbTestId, Path()]
_NOT_FOUND = error_responses(e404="no such A/B test")


def _json(content: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


@router.post(
    "",
    status_code=201,
    summary="Create the parameters of an A/B test",
    response_model=AbTestCreated,
    response_class=Response,
)
def create_ab_test(body: AbTestCreate, store: ScenarioStoreDep, _: AdminKey) -> Response:
    params = store.create_ab_test(body.name, body.probability_a)
    return _json({"id": params.id}, 201)


@router.get(
    "",
    summary="List the A/B tests, oldest first",
    response_model=list[AbTestPublic],
    response_class=Response,
)
def list_ab_tests(store: ScenarioStoreDep, _: AdminKey) -> Response:
    return _json([t.to_wire() for t in store.list_ab_tests()])


@router.get(
    "/{test_id}",
    summary="Describe an A/B test",
    response_model=AbTestPublic,
    response_class=Response,
    responses=_NOT_FOUND,
)
def get_ab_test(test_id: TestId, store: ScenarioStoreDep, _: AdminKey) -> Response:
    return _json(store.get_ab_test(test_id).to_wire())


@router.delete(
    "/{test_id}",
    status_code=204,
    summary="Delete an A/B test no scenario uses",
    response_class=Response,
    responses={
        204: {"description": "deleted", "content": {}},
        **_NOT_FOUND,
        **error_responses(e409="an ab_test scenario uses it"),
    },
)
def delete_ab_test(test_id: TestId, store: ScenarioStoreDep, _: AdminKey) -> Response:
    store.delete_ab_test(test_id)
    return Response(status_code=204)
