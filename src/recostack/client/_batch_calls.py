"""The batch calls of the client: batch inference jobs, batch predictions through a
deployment, campaigns and their recommendations, with the references' names. Each is written
here once; the resources (:class:`BatchInferenceJob`, :class:`BatchPrediction`,
:class:`Campaign`, and :class:`Deployment`'s ``create_batch_prediction``) delegate to them."""

from __future__ import annotations

from typing import Any

from recostack.client._batch import (
    BatchInferenceJob,
    BatchPrediction,
    Campaign,
    CampaignRecommendations,
)
from recostack.client._http import HttpSession
from recostack.client._wire import camel_body

__all__ = ["BatchCalls"]


def _location(value: str | dict[str, Any], key: str) -> dict[str, Any]:
    """``"input/users.jsonl"`` or the reference's ``{"s3DataSource": {"path": ...}}``."""
    return {key: {"path": value}} if isinstance(value, str) else dict(value)


class BatchCalls(HttpSession):
    # --- batch inference jobs --------------------------------------------------------------
    def create_batch_inference_job(
        self,
        job_name: str,
        job_input: str | dict[str, Any],
        job_output: str | dict[str, Any],
        solution_version_arn: str | None = None,
        filter_arn: str | None = None,
        num_results: int = 25,
        role_arn: str | None = None,
        batch_inference_job_config: dict[str, Any] | None = None,
        deployment_id: str | None = None,
        engine: str = "local",
        **rules: Any,
    ) -> BatchInferenceJob:
        """Score a whole input file (``<container>/<path>`` or an absolute path) with a model
        (``solution_version_arn``) or a deployment; ``rules``: ``filters``, ``reranking``,
        ``exclude_rated_items``, ``scenario``, ``skip_default_scenario``, ``input_format``."""
        body = camel_body(
            {
                "job_name": job_name,
                "solution_version_arn": solution_version_arn,
                "deployment_id": deployment_id,
                "filter_arn": filter_arn,
                "num_results": num_results,
                "job_input": _location(job_input, "s3DataSource"),
                "job_output": _location(job_output, "s3DataDestination"),
                "role_arn": role_arn,
                "batch_inference_job_config": batch_inference_job_config,
                "engine": engine,
                **rules,
            }
        )
        answer = self._call("POST", "/api/batch-inference-jobs", json=body)
        return self.describe_batch_inference_job(answer["batchInferenceJobArn"])

    def describe_batch_inference_job(self, batch_inference_job_arn: str) -> BatchInferenceJob:
        answer = self._call("GET", f"/api/batch-inference-jobs/{batch_inference_job_arn}")
        return BatchInferenceJob.bound(self, answer["batchInferenceJob"])

    def list_batch_inference_jobs(
        self,
        solution_version_arn: str | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> list[BatchInferenceJob]:
        """Newest first (summaries: describe one for its progress)."""
        params = camel_body(
            {
                "solution_version_arn": solution_version_arn,
                "max_results": max_results,
                "next_token": next_token,
            }
        )
        answer = self._call("GET", "/api/batch-inference-jobs", params=params)
        return BatchInferenceJob.bound_list(self, answer["batchInferenceJobs"])

    # --- batch predictions through a deployment ----------------------------------------------
    def create_batch_prediction(
        self,
        deployment_id: str,
        name: str | None = None,
        global_prediction_args: dict[str, Any] | None = None,
        batch_prediction_args: dict[str, Any] | None = None,
        output_format: str | None = None,
        output_location: str | None = None,
        refresh_schedule: str | None = None,
        csv_input_prefix: str | None = None,
        csv_prediction_prefix: str | None = None,
        output_includes_metadata: bool | None = None,
        result_input_columns: list[str] | None = None,
    ) -> BatchPrediction:
        """The reference's ``create_batch_prediction``; the first version runs at once."""
        body = camel_body(
            {
                "name": name,
                "global_prediction_args": (
                    camel_body(global_prediction_args) if global_prediction_args else None
                ),
                "batch_prediction_args": (
                    camel_body(batch_prediction_args) if batch_prediction_args else None
                ),
                "output_format": output_format,
                "output_location": output_location,
                "refresh_schedule": refresh_schedule,
                "csv_input_prefix": csv_input_prefix,
                "csv_prediction_prefix": csv_prediction_prefix,
                "output_includes_metadata": output_includes_metadata,
                "result_input_columns": result_input_columns,
            }
        )
        path = f"/api/deployments/{deployment_id}/batch-predictions"
        return BatchPrediction.bound(self, self._call("POST", path, json=body))

    def describe_batch_prediction(self, batch_prediction_id: str) -> BatchPrediction:
        answer = self._call("GET", f"/api/batch-predictions/{batch_prediction_id}")
        return BatchPrediction.bound(self, answer)

    def list_batch_predictions(self, deployment_id: str) -> list[BatchPrediction]:
        answer = self._call("GET", f"/api/deployments/{deployment_id}/batch-predictions")
        return BatchPrediction.bound_list(self, answer)

    def start_batch_prediction(self, batch_prediction_id: str) -> BatchPrediction:
        answer = self._call("POST", f"/api/batch-predictions/{batch_prediction_id}/start")
        return BatchPrediction.bound(self, answer)

    # --- campaigns -----------------------------------------------------------------------------
    def create_campaign(
        self,
        name: str,
        solution_version_arn: str,
        min_provisioned_tps: int = 1,
        campaign_config: dict[str, Any] | None = None,
    ) -> Campaign:
        body = {
            "name": name,
            "solutionVersionArn": solution_version_arn,
            "minProvisionedTPS": min_provisioned_tps,
            **({"campaignConfig": campaign_config} if campaign_config is not None else {}),
        }
        answer = self._call("POST", "/api/campaigns", json=body)
        return self.describe_campaign(answer["campaignArn"])

    def describe_campaign(self, campaign_arn: str) -> Campaign:
        answer = self._call("GET", f"/api/campaigns/{campaign_arn}")
        return Campaign.bound(self, answer["campaign"])

    def list_campaigns(
        self, max_results: int = 100, next_token: str | None = None
    ) -> list[Campaign]:
        params = camel_body({"max_results": max_results, "next_token": next_token})
        answer = self._call("GET", "/api/campaigns", params=params)
        return Campaign.bound_list(self, answer["campaigns"])

    def update_campaign(
        self,
        campaign_arn: str,
        solution_version_arn: str | None = None,
        min_provisioned_tps: int | None = None,
        campaign_config: dict[str, Any] | None = None,
    ) -> Campaign:
        body: dict[str, Any] = {}
        if solution_version_arn is not None:
            body["solutionVersionArn"] = solution_version_arn
        if min_provisioned_tps is not None:
            body["minProvisionedTPS"] = min_provisioned_tps
        if campaign_config is not None:
            body["campaignConfig"] = campaign_config
        self._call("PATCH", f"/api/campaigns/{campaign_arn}", json=body)
        return self.describe_campaign(campaign_arn)

    def delete_campaign(self, campaign_arn: str) -> None:
        self._call("DELETE", f"/api/campaigns/{campaign_arn}")

    def get_recommendations(
        self,
        campaign_arn: str,
        user_id: str | None = None,
        item_id: str | None = None,
        num_results: int = 25,
    ) -> CampaignRecommendations:
        params = camel_body({"user_id": user_id, "item_id": item_id, "num_results": num_results})
        answer = self._call("GET", f"/api/campaigns/{campaign_arn}/recommendations", params=params)
        return CampaignRecommendations.from_wire(answer)
