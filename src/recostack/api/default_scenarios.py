"""``/api/scenarios-default/{reco_type}``: the scenario applied to every request of a type.

``PUT`` (or ``PATCH``, as the reference also writes it) {name}; ``GET``;
``DELETE``. The default applies after the runtime parameters and the runtime
scenario, is not applied again when it is also the runtime scenario, and is
skipped with ``skip_default_scenario=true``.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Response

from recostack.api.deps import AdminKey, ScenarioStoreDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.rules_schemas import DefaultScenarioPublic, DefaultScenarioSet
from recostack.rules import RecoType

__all__ = ["router"]

router = APIRouter(prefix="/api/scenarios-default", tags=["scenarios"], responses=ERROR_RESPONSES)

RecoTypePath = Annotated[
    RecoType, Path(description="item_to_items, profile_to_items or session_to_items")
]


def _json(content: object) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


_SET_SUMMARY = "Set the default scenario of a recommendation type"
_SET_ERRORS = error_responses(e404="no such scenario of this type")


@router.put(
    "/{reco_type}",
    summary=_SET_SUMMARY,
    response_model=DefaultScenarioPublic,
    response_class=Response,
    responses=_SET_ERRORS,
)
@router.patch(
    "/{reco_type}",
    summary=_SET_SUMMARY,
    response_model=DefaultScenarioPublic,
    response_class=Response,
    responses=_SET_ERRORS,
)
def set_default_scenario(
    reco_type: RecoTypePath, body: DefaultScenarioSet, store: ScenarioStoreDep, _: AdminKey
) -> Response:
    store.set_default(reco_type, body.name)
    return _json({"reco_type": reco_type, "name": body.name})


@router.get(
    "/{reco_type}",
    summary="The default scenario of a recommendation type",
    response_model=DefaultScenarioPublic,
    response_class=Response,
    responses=error_responses(e404="no default scenario is set"),
)
def get_default_scenario(reco_type: RecoTypePath, store: ScenarioStoreDep, _: AdminKey) -> Response:
    return _json({"reco_type": reco_type, "name": store.get_default(reco_type)})


@router.delete(
    "/{reco_type}",
    status_code=204,
    summary="Unset the default scenario of a recommendation type",
    response_class=Response,
    responses={
        204: {"description": "unset", "content": {}},
        **error_responses(e404="no default scenario is set"),
    },
)
def delete_default_scenario(
    reco_type: RecoTypePath, store: ScenarioStoreDep, _: AdminKey
) -> Response:
    store.delete_default(reco_type)
    return Response(status_code=204)
