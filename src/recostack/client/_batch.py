"""Batch inference jobs, batch predictions and campaigns as the SDK returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import Field

from recostack.client._polling import poll_until
from recostack.client._wire import Resource, WireRecord
from recostack.errors import RecostackError

__all__ = [
    "BatchInferenceJob",
    "BatchJobCalls",
    "BatchPrediction",
    "Campaign",
    "CampaignRecommendations",
]

_JOB_DONE = frozenset({"ACTIVE", "CREATE FAILED"})
_CAMPAIGN_STABLE = frozenset({"ACTIVE", "CREATE FAILED"})


class BatchJobCalls(Protocol):
    """The calls of the client the batch resources use."""

    poll_seconds: float

    def describe_batch_inference_job(self, batch_inference_job_arn: str) -> BatchInferenceJob: ...

    def describe_batch_prediction(self, batch_prediction_id: str) -> BatchPrediction: ...

    def start_batch_prediction(self, batch_prediction_id: str) -> BatchPrediction: ...

    def describe_campaign(self, campaign_arn: str) -> Campaign: ...

    def update_campaign(
        self,
        campaign_arn: str,
        solution_version_arn: str | None = ...,
        min_provisioned_tps: int | None = ...,
        campaign_config: dict[str, Any] | None = ...,
    ) -> Campaign: ...

    def delete_campaign(self, campaign_arn: str) -> None: ...

    def get_recommendations(
        self,
        campaign_arn: str,
        user_id: str | None = ...,
        item_id: str | None = ...,
        num_results: int = ...,
    ) -> CampaignRecommendations: ...


class BatchInferenceJob(Resource[BatchJobCalls]):
    """A batch inference job: the reference's fields, with Recostack's ``progress``."""

    batch_inference_job_arn: str
    job_name: str
    status: str
    failure_reason: str | None = None
    solution_version_arn: str | None = None
    deployment_id: str | None = None
    num_results: int | None = None
    filter_arn: str | None = None
    job_input: dict[str, Any] = Field(default_factory=dict)
    job_output: dict[str, Any] = Field(default_factory=dict)
    batch_inference_job_config: dict[str, Any] = Field(default_factory=dict)
    engine: str | None = None
    #: linesTotal, linesDone, linesFailed, chunksDone, resumed, linesPerSecond, etaSeconds
    progress: dict[str, Any] = Field(default_factory=dict)
    creation_date_time: datetime | None = None
    last_updated_date_time: datetime | None = None

    def describe(self) -> BatchInferenceJob:
        return self._client.describe_batch_inference_job(self.batch_inference_job_arn)

    def refresh(self) -> BatchInferenceJob:
        return self._replace_with(self.describe())

    def wait_for_job(self, timeout: float = 3600) -> BatchInferenceJob:
        """Poll until ACTIVE; self (:class:`RecostackError` if it failed)."""
        poll_until(
            self.refresh,
            lambda j: j.status in _JOB_DONE,
            timeout=timeout,
            every=self._client.poll_seconds,
            waiting_for=lambda j: f"batch inference job {j.job_name!r} still {j.status}",
        )
        if self.status != "ACTIVE":
            raise RecostackError(
                f"batch inference job {self.job_name!r} failed: {self.failure_reason}",
                detail=self.to_dict(),
            )
        return self


class BatchPrediction(Resource[BatchJobCalls]):
    """A deployment's batch prediction and its runs (``versions``, newest first)."""

    batch_prediction_id: str
    name: str
    deployment_id: str
    status: str | None = None
    latest_batch_prediction_version: str | None = None
    refresh_schedules: list[dict[str, Any]] = Field(default_factory=list)
    global_prediction_args: dict[str, Any] = Field(default_factory=dict)
    batch_prediction_args: dict[str, Any] = Field(default_factory=dict)
    output_format: str | None = None
    output_location: str | None = None
    versions: list[dict[str, Any]] = Field(default_factory=list)

    def describe(self) -> BatchPrediction:
        return self._client.describe_batch_prediction(self.batch_prediction_id)

    def refresh(self) -> BatchPrediction:
        return self._replace_with(self.describe())

    def start(self) -> BatchPrediction:
        """Run it again now (a new version); self."""
        return self._replace_with(self._client.start_batch_prediction(self.batch_prediction_id))

    def wait_for_predictions(self, timeout: float = 3600) -> BatchPrediction:
        """Poll until the latest version is ACTIVE or failed; self."""
        return poll_until(
            self.refresh,
            lambda p: p.status in _JOB_DONE,
            timeout=timeout,
            every=self._client.poll_seconds,
            waiting_for=lambda p: f"batch prediction {p.name!r} still {p.status}",
        )


class Campaign(Resource[BatchJobCalls]):
    """A campaign (an adapter over a deployment), with its measured throughput."""

    name: str
    campaign_arn: str
    status: str
    failure_reason: str | None = None
    solution_version_arn: str | None = None
    min_provisioned_tps: int | None = Field(default=None, alias="minProvisionedTPS")
    measured_tps: float | None = Field(default=None, alias="measuredTPS")
    measured_tps_below_minimum: bool = Field(default=False, alias="measuredTPSBelowMinimum")
    campaign_config: dict[str, Any] = Field(default_factory=dict)
    latest_campaign_update: dict[str, Any] | None = None
    deployment_id: str | None = None
    creation_date_time: datetime | None = None
    last_updated_date_time: datetime | None = None

    def describe(self) -> Campaign:
        return self._client.describe_campaign(self.campaign_arn)

    def refresh(self) -> Campaign:
        return self._replace_with(self.describe())

    def wait_for_campaign(self, timeout: float = 900) -> Campaign:
        """Poll until ACTIVE or CREATE FAILED, with no update in progress; self."""
        return poll_until(
            self.refresh,
            lambda c: (
                c.status in _CAMPAIGN_STABLE
                and (c.latest_campaign_update or {}).get("status") in (None, *_CAMPAIGN_STABLE)
            ),
            timeout=timeout,
            every=self._client.poll_seconds,
            waiting_for=lambda c: f"campaign {c.name!r} still {c.status}",
        )

    def update(
        self,
        solution_version_arn: str | None = None,
        min_provisioned_tps: int | None = None,
        campaign_config: dict[str, Any] | None = None,
    ) -> Campaign:
        return self._replace_with(
            self._client.update_campaign(
                self.campaign_arn, solution_version_arn, min_provisioned_tps, campaign_config
            )
        )

    def delete(self) -> None:
        self._client.delete_campaign(self.campaign_arn)

    def get_recommendations(
        self, user_id: str | None = None, item_id: str | None = None, num_results: int = 25
    ) -> CampaignRecommendations:
        return self._client.get_recommendations(self.campaign_arn, user_id, item_id, num_results)


class CampaignRecommendations(WireRecord):
    item_list: list[dict[str, Any]]
    recommendation_id: str

    @property
    def item_ids(self) -> list[str]:
        return [str(item["itemId"]) for item in self.item_list]
