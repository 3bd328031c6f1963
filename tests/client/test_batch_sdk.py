"""The SDK's batch calls against a real server: a batch inference job, a deployment's batch
prediction, a campaign, each waited for through its resource."""

from __future__ import annotations

from pathlib import Path

from .conftest import LiveServer


def test_batch_jobs_predictions_and_campaigns_through_the_sdk(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with live_server.client() as client:
        client.upload_file("input", "users.jsonl", '{"userId": "user1"}\n{"itemId": "item2"}\n')
        job = client.create_batch_inference_job(
            job_name=f"sdk-{live_server.backend}",
            solution_version_arn=live_server.model_id,
            job_input="input/users.jsonl",
            job_output=f"output/sdk-{live_server.backend}.jsonl",
            num_results=3,
        )
        assert job.status in ("PENDING", "IN PROGRESS", "ACTIVE") and job.batch_inference_job_arn
        job.wait_for_job(timeout=60)
        assert job.status == "ACTIVE" and job.progress["linesDone"] == 2
        assert job.batch_inference_job_arn in {
            j.batch_inference_job_arn for j in client.list_batch_inference_jobs()
        }

        client.create_project(f"batch-{live_server.backend}")
        deployment = client.create_deployment(
            f"batch-{live_server.backend}",
            f"batched-{live_server.backend}",
            model_id=live_server.model_id,
        ).wait_for_deployment(timeout=60)
        prediction = deployment.create_batch_prediction(
            name="sdk",
            global_prediction_args={"recommendation_count": 2},
            batch_prediction_args={"input_location": "input/users.jsonl"},
            output_format="JSON",
        )
        prediction.wait_for_predictions(timeout=60)
        assert prediction.status == "ACTIVE"
        assert [p.name for p in deployment.list_batch_predictions()] == ["sdk"]

        campaign = client.create_campaign(
            f"sdk-{live_server.backend}", live_server.model_id, min_provisioned_tps=1
        )
        campaign.wait_for_campaign(timeout=60)
        assert campaign.status == "ACTIVE" and (campaign.measured_tps or 0) > 0
        answer = campaign.get_recommendations(item_id="item2", num_results=3)
        assert len(answer.item_ids) == 3 and answer.to_dict()["recommendationId"]
        campaign.delete()
