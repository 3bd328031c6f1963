"""Online learning (admin key): offers, the feature store, configurations, arms, reports.

- ``PUT /api/offers/{collection}`` (CSV with a header row; ``?key=`` the id
  column: ``offer``, ``offer_name`` or ``offer_id``) and ``POST`` (JSON records):
  an offer collection; ``GET`` lists it.
- ``POST /api/online-learning/feature-store``: the reference's
  ``online_learning_ecosystem_rewards_setup_feature_store``.
- ``POST /api/online-learning``: ``create_online_learning`` (201 with the
  configuration's ``id``; an existing name is a 409 unless ``replace``);
  ``GET`` lists, ``GET``/``DELETE .../{configId}``.
- ``GET .../{configId}/arms``: the options store; ``PUT .../priors``;
  ``POST .../warm-start``.
- ``GET /api/deployments/{deploymentId}/exploration-report`` and
  ``POST /api/deployments/{deploymentId}/evaluate-policy``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from recostack.api.customers import _csv_text
from recostack.api.deps import AdminKey
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import CSV_PATTERN, CollectionName, DeploymentName, Records
from recostack.api.online_learning_schemas import (
    ArmPrior,
    EvaluatePolicyBody,
    FeatureStoreSetup,
    HistoricalInteraction,
    IsoDateTime,
    OfferRecord,
    OnlineLearningCreate,
)
from recostack.errors import Invalid, Unprocessable
from recostack.services.online_learning import OnlineLearningService

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["online learning"], responses=ERROR_RESPONSES)

ConfigId = Annotated[str, Path(min_length=1, max_length=128, description="id or name")]
Collection = Annotated[CollectionName, Path()]
_NO_CONFIG = error_responses(e404="no such configuration")


async def _service(request: Request) -> OnlineLearningService:
    service: OnlineLearningService = request.app.state.online_learning
    return service


ServiceDep = Annotated[OnlineLearningService, Depends(_service)]


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


# --- offers ---------------------------------------------------------------------------


@router.put(
    "/offers/{collection}",
    summary="Load offers from a CSV file (header row), replacing offers with the same id",
    responses=error_responses(
        e413="the file is too large",
        e422="a row has not as many fields as the header, the key column is not in the header, "
        "or an offer id in it is empty or too long",
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "pattern": CSV_PATTERN}}},
        }
    },
)
async def upload_offers(
    collection: Collection,
    request: Request,
    service: ServiceDep,
    _: AdminKey,
    key: Annotated[str | None, Query(max_length=128, description="the id column")] = None,
) -> dict[str, Any]:
    text = _csv_text(await request.body())
    try:
        written = service.upload_offers(collection, text, key)
    except Invalid as exc:
        raise Unprocessable(exc.message, field=exc.field, detail=exc.detail) from None
    return {"collection": collection, "written": written}


@router.post("/offers/{collection}", summary="Insert or replace offer records")
def add_offers(
    collection: Collection, body: Records[OfferRecord], service: ServiceDep, _: AdminKey
) -> dict[str, Any]:
    written = service.add_offers(collection, [(r.offer_id, r.fields) for r in body])
    return {"collection": collection, "written": written}


@router.get(
    "/offers/{collection}",
    summary="The offers of a collection",
    responses=error_responses(e404="no such collection"),
)
def list_offers(collection: Collection, service: ServiceDep, _: AdminKey) -> dict[str, Any]:
    return {"collection": collection, "offers": service.list_offers(collection)}


# --- the feature store and configurations ------------------------------------------------


@router.post(
    "/online-learning/feature-store",
    status_code=201,
    summary="online_learning_ecosystem_rewards_setup_feature_store: offers × segments",
    responses=error_responses(e404="no such offer collection"),
)
def setup_feature_store(
    body: FeatureStoreSetup, service: ServiceDep, _: AdminKey
) -> dict[str, Any]:
    return service.setup_feature_store(**body.model_dump())


@router.post(
    "/online-learning",
    status_code=201,
    summary="create_online_learning: an ecosystem_rewards configuration (returns its id)",
    responses=error_responses(
        e404="no such feature store",
        e409="the name exists (give replace), or the policy evaluation refused the change",
        e422="parameters that contradict each other or the feature store (its contextual "
        "variables, its offer key), or a batch_find that is not a JSON object",
    ),
)
def create_online_learning(
    body: OnlineLearningCreate,
    service: ServiceDep,
    _: AdminKey,
) -> dict[str, Any]:
    values = body.model_dump()
    replace = values.pop("replace")
    require = values.pop("require_policy_evaluation")
    view, _created = service.create(values, replace=replace, require_policy_evaluation=require)
    return view


@router.get("/online-learning", summary="Every online learning configuration")
def list_online_learning(service: ServiceDep, _: AdminKey) -> list[dict[str, Any]]:
    return service.list_all()


@router.get("/online-learning/{config_id}", summary="One configuration", responses=_NO_CONFIG)
def get_online_learning(config_id: ConfigId, service: ServiceDep, _: AdminKey) -> dict[str, Any]:
    return service.get(config_id)


@router.delete(
    "/online-learning/{config_id}",
    status_code=204,
    summary="Delete a configuration and its options store (refused while a deployment uses it)",
    responses=error_responses(e404="no such configuration", e409="a deployment uses it"),
)
def delete_online_learning(config_id: ConfigId, service: ServiceDep, _: AdminKey) -> Response:
    service.delete(config_id)
    return Response(status_code=204)


# --- the options store ------------------------------------------------------------------


@router.get(
    "/online-learning/{config_id}/arms",
    summary="The options store: alpha, beta, priors, propensity, counts per offer and segment",
    responses=_NO_CONFIG,
)
def get_arms(
    config_id: ConfigId,
    service: ServiceDep,
    _: AdminKey,
    segment: Annotated[str | None, Query(max_length=255)] = None,
) -> list[dict[str, Any]]:
    return service.arms(config_id, segment)


@router.put(
    "/online-learning/{config_id}/priors",
    summary="Set priors (alpha_zero, beta_zero) per offer and segment",
    responses=_NO_CONFIG,
)
def set_priors(
    config_id: ConfigId, body: Records[ArmPrior], service: ServiceDep, _: AdminKey
) -> dict[str, Any]:
    return {"updated": service.set_priors(config_id, [p.model_dump() for p in body])}


@router.post(
    "/online-learning/{config_id}/warm-start",
    summary="Warm the arms from historical interactions (prior_success_reward / "
    "prior_fail_reward, discounted by discount_factor)",
    responses=_NO_CONFIG,
)
def warm_start(
    config_id: ConfigId, body: Records[HistoricalInteraction], service: ServiceDep, _: AdminKey
) -> dict[str, Any]:
    return {"arms": service.warm_start(config_id, [h.model_dump() for h in body])}


# --- reports on a deployment --------------------------------------------------------------

DeploymentId = Annotated[DeploymentName, Path(description="the deployment's name")]


@router.get(
    "/deployments/{deployment_id}/exploration-report",
    summary="Exploration of a deployment's online answers in a time range",
)
def exploration_report(
    deployment_id: DeploymentId,
    service: ServiceDep,
    _: AdminKey,
    start: Annotated[IsoDateTime | None, Query()] = None,
    end: Annotated[IsoDateTime | None, Query()] = None,
) -> dict[str, Any]:
    return service.exploration_report(deployment_id, _utc(start), _utc(end))


@router.post(
    "/deployments/{deployment_id}/evaluate-policy",
    summary="Off-policy evaluation of a candidate (a configuration, or a model-backed "
    "deployment's top-k) on a window of the logged answers (IPW, SNIPW, DR with 95 % "
    "bootstrap intervals; effective sample size)",
    responses=error_responses(
        e404="no such configuration or candidate deployment",
        e409="no logged online answers in that range, or the candidate deployment is stopped",
        e422="the candidate deployment is not model-backed, or a candidate names both a "
        "deployment and configuration parameters",
        e503="the candidate deployment is not ready",
    ),
)
def evaluate_policy(
    deployment_id: DeploymentId, body: EvaluatePolicyBody, service: ServiceDep, _: AdminKey
) -> dict[str, Any]:
    return service.evaluate_policy(
        deployment_id, body.candidate(), _utc(body.start), _utc(body.end), body.max_answers
    )
