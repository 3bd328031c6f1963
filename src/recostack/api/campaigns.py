"""Campaigns (the managed service's create / describe / update / list / delete; admin key)
and their recommendations (``GetRecommendations``; the recommend key).

A campaign is an adapter over a deployment (:mod:`recostack.services.campaigns`):
its ``campaignArn`` is its name; its recommendations are the deployment's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from recostack.api.deps import AdminKey, RecommendKey, ServingDep, WorkersDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.exploration_schemas import ItemExplorationConfig
from recostack.api.inputs import ItemId, UserId
from recostack.errors import Conflict
from recostack.services.batch_jobs import wire_time
from recostack.services.campaigns import CampaignService
from recostack.serving.deployments.recommend import DeploymentRequest
from recostack.store.batch_tables import CampaignRow, CampaignStatus

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["campaigns"], responses=ERROR_RESPONSES)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9\-_]{0,62}$"
CampaignArn = Annotated[str, Path(max_length=63, description="the campaign's name")]


class CampaignConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    itemExplorationConfig: ItemExplorationConfig | None = None

    def to_store(self) -> dict[str, Any]:
        config = self.itemExplorationConfig
        return {"itemExplorationConfig": config.to_store()} if config else {}


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME_PATTERN)
    solutionVersionArn: str = Field(max_length=64, description="the id of a Completed model")
    minProvisionedTPS: int = Field(default=1, ge=1, le=1_000_000)
    campaignConfig: CampaignConfig | None = None


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    solutionVersionArn: str | None = Field(default=None, max_length=64)
    minProvisionedTPS: int | None = Field(default=None, ge=1, le=1_000_000)
    campaignConfig: CampaignConfig | None = None


class CampaignArnAnswer(BaseModel):
    campaignArn: str


class CampaignDescribed(BaseModel):
    campaign: dict[str, Any]


class CampaignList(BaseModel):
    campaigns: list[dict[str, Any]]
    nextToken: str | None = None


class RecommendationsAnswer(BaseModel):
    itemList: list[dict[str, Any]]
    recommendationId: str


def _summary(row: CampaignRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "campaignArn": row.name,
        "status": row.status,
        "failureReason": row.failure_reason,
        "creationDateTime": wire_time(row.created_at),
        "lastUpdatedDateTime": wire_time(row.updated_at),
    }


def _described(row: CampaignRow) -> dict[str, Any]:
    measured = row.measured_tps
    below = measured is not None and measured < row.min_provisioned_tps
    return {
        **_summary(row),
        "solutionVersionArn": row.model_id,
        "minProvisionedTPS": row.min_provisioned_tps,
        "campaignConfig": dict(row.campaign_config or {}),
        "latestCampaignUpdate": row.latest_update,
        "deploymentId": row.deployment_id,
        "measuredTPS": measured,
        "measuredTPSBelowMinimum": below,
        "throughputNote": (
            f"measured {measured} requests/s in the warm-up burst, below minProvisionedTPS "
            f"{row.min_provisioned_tps}: add API processes or replicas, or prune the model"
            if below
            else None
        ),
    }


async def _service(request: Request) -> CampaignService:
    service: CampaignService = request.app.state.campaigns
    return service


ServiceDep = Annotated[CampaignService, Depends(_service)]


@router.post(
    "/campaigns",
    status_code=201,
    summary="Create a campaign (deployed by the workers)",
    response_model=CampaignArnAnswer,
    responses=error_responses(
        e404="no such model", e409="a campaign of that name exists, or the model is not Completed"
    ),
)
def create_campaign(
    body: CampaignCreate, service: ServiceDep, workers: WorkersDep, response: Response, _: AdminKey
) -> CampaignArnAnswer:
    row = service.create(
        body.name,
        body.solutionVersionArn,
        body.minProvisionedTPS,
        body.campaignConfig.to_store() if body.campaignConfig else {},
    )
    if workers is not None:
        workers.wake()
    response.headers["Location"] = f"/api/campaigns/{row.name}"
    return CampaignArnAnswer(campaignArn=row.name)


@router.get(
    "/campaigns/{campaignArn}",
    summary="Describe a campaign",
    response_model=CampaignDescribed,
    responses=error_responses(e404="no such campaign"),
)
def describe_campaign(
    campaignArn: CampaignArn, service: ServiceDep, _: AdminKey
) -> CampaignDescribed:
    return CampaignDescribed(campaign=_described(service.describe(campaignArn)))


@router.get("/campaigns", summary="List campaigns, newest first", response_model=CampaignList)
def list_campaigns(
    service: ServiceDep,
    _: AdminKey,
    maxResults: Annotated[int, Query(ge=1, le=100)] = 100,
    nextToken: Annotated[str | None, Query(pattern=r"^[0-9]{1,9}$")] = None,
) -> CampaignList:
    rows, following = service.list(maxResults, int(nextToken or 0))
    return CampaignList(
        campaigns=[_summary(r) for r in rows],
        nextToken=None if following is None else str(following),
    )


@router.patch(
    "/campaigns/{campaignArn}",
    summary="Update a campaign (when ACTIVE or CREATE FAILED)",
    response_model=CampaignArnAnswer,
    responses=error_responses(
        e404="no such campaign or model",
        e409="the campaign is not ACTIVE or CREATE FAILED, or the model is not Completed",
    ),
)
def update_campaign(
    campaignArn: CampaignArn,
    body: CampaignUpdate,
    service: ServiceDep,
    workers: WorkersDep,
    _: AdminKey,
) -> CampaignArnAnswer:
    service.update(
        campaignArn,
        model_id=body.solutionVersionArn,
        min_provisioned_tps=body.minProvisionedTPS,
        campaign_config=body.campaignConfig.to_store() if body.campaignConfig else None,
    )
    if workers is not None:
        workers.wake()
    return CampaignArnAnswer(campaignArn=campaignArn)


@router.delete(
    "/campaigns/{campaignArn}",
    status_code=202,
    summary="Delete a campaign (and its deployment)",
    response_model=CampaignDescribed,
    responses=error_responses(e404="no such campaign", e409="the campaign is busy"),
)
def delete_campaign(
    campaignArn: CampaignArn, service: ServiceDep, workers: WorkersDep, _: AdminKey
) -> CampaignDescribed:
    row = service.delete(campaignArn)
    if workers is not None:
        workers.wake()
    return CampaignDescribed(campaign=_described(row))


@router.get(
    "/campaigns/{campaignArn}/recommendations",
    summary="Recommendations from a campaign (GetRecommendations)",
    response_model=RecommendationsAnswer,
    responses=error_responses(
        e404="no such campaign", e409="the campaign is not ACTIVE", e503="not loaded here yet"
    ),
)
async def get_recommendations(
    campaignArn: CampaignArn,
    service: ServiceDep,
    serving: ServingDep,
    _: RecommendKey,
    userId: Annotated[UserId | None, Query()] = None,
    itemId: Annotated[ItemId | None, Query()] = None,
    numResults: Annotated[int, Query(ge=1, le=500)] = 25,
) -> RecommendationsAnswer:
    row = service.describe(campaignArn)
    if row.status != CampaignStatus.ACTIVE:
        raise Conflict(
            f"campaign {campaignArn!r} is {row.status}: ask it when ACTIVE", field="campaignArn"
        )
    body = await serving.deployments.recommend(
        row.deployment_id,
        DeploymentRequest(user_id=userId, item_id=itemId, arguments={"count": numResults}),
    )
    items = [
        {"itemId": item["itemId"], "score": item["score"]}
        | (
            {"reason": [item["reason"]], "propensity": item["propensity"]}
            if "reason" in item
            else {}
        )
        for item in body["items"]
    ]
    return RecommendationsAnswer(itemList=items, recommendationId=body["requestId"])
