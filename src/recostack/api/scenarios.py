"""``/api/scenarios/{reco_type}/{name}``: saved business rules (admin key).

The body of a PUT is the scenario as the reference writes it (case, ab_test,
condition or alias). A write that would leave a dangling reference, a
reference to a scenario of another recommendation type, an unknown A/B
test or a cycle is refused with 409 (the cycle's path in the message and in
``detail.cycle``) and stores nothing; a scenario another one refers to (or
the default scenario) cannot be deleted (409 naming the referrers).
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Path, Response

from recostack.api.deps import AdminKey, ScenarioStoreDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import ScenarioName
from recostack.api.rules_schemas import ScenarioBody, ScenarioPublic
from recostack.rules import RecoType

__all__ = ["router"]

router = APIRouter(prefix="/api/scenarios", tags=["scenarios"], responses=ERROR_RESPONSES)

RecoTypePath = Annotated[
    RecoType, Path(description="item_to_items, profile_to_items or session_to_items")
]
NamePath = Annotated[ScenarioName, Path(description="the scenario's name")]
_NOT_FOUND = error_responses(e404="no such scenario")


def _json(content: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


@router.put(
    "/{reco_type}/{name}",
    summary="Create or replace a scenario",
    response_model=ScenarioPublic,
    response_class=Response,
    responses={
        201: {"description": "created", "model": ScenarioPublic},
        **error_responses(e409="a missing or other-type reference, an unknown A/B test, a cycle"),
    },
)
def put_scenario(
    reco_type: RecoTypePath,
    name: NamePath,
    scenario: Annotated[ScenarioBody, Body(description="the scenario, as the reference writes it")],
    store: ScenarioStoreDep,
    _: AdminKey,
) -> Response:
    created = store.put_scenario(reco_type, name, scenario)
    return _json(store.get_scenario(reco_type, name).to_wire(), 201 if created else 200)


@router.get(
    "/{reco_type}",
    summary="List the scenarios of a recommendation type, by name",
    response_model=list[ScenarioPublic],
    response_class=Response,
)
def list_scenarios(reco_type: RecoTypePath, store: ScenarioStoreDep, _: AdminKey) -> Response:
    return _json([s.to_wire() for s in store.list_scenarios(reco_type)])


@router.get(
    "/{reco_type}/{name}",
    summary="Describe a scenario",
    response_model=ScenarioPublic,
    response_class=Response,
    responses=_NOT_FOUND,
)
def get_scenario(
    reco_type: RecoTypePath, name: NamePath, store: ScenarioStoreDep, _: AdminKey
) -> Response:
    return _json(store.get_scenario(reco_type, name).to_wire())


@router.delete(
    "/{reco_type}/{name}",
    status_code=204,
    summary="Delete a scenario nothing refers to",
    response_class=Response,
    responses={
        204: {"description": "deleted", "content": {}},
        **_NOT_FOUND,
        **error_responses(e409="another scenario refers to it, or it is the default"),
    },
)
def delete_scenario(
    reco_type: RecoTypePath, name: NamePath, store: ScenarioStoreDep, _: AdminKey
) -> Response:
    store.delete_scenario(reco_type, name)
    return Response(status_code=204)
