"""The SDK against a real server: management, serving, logs, and errors as library classes."""

from __future__ import annotations

import pytest

from conftest import RECOMMEND_KEY
from recostack.client import (
    Client,
    Deployment,
    DeploymentRecommendation,
    Model,
    PredictionLogRecord,
    Project,
    Recommendation,
    ResponseLogRecord,
)
from recostack.errors import Conflict, Forbidden, Invalid, NotFound

from .conftest import LiveServer, wait_until_logged


def test_exports() -> None:
    import recostack.client as sdk

    assert sorted(sdk.__all__) == [
        "Alert",
        "AlertEvent",
        "AutoDeployDecision",
        "BatchInferenceJob",
        "BatchPrediction",
        "Campaign",
        "CampaignRecommendations",
        "Client",
        "CustomersWritten",
        "Deployment",
        "DeploymentRecommendation",
        "DeploymentStatistics",
        "LogCursor",
        "Model",
        "ModelVersionEntry",
        "MonitorResult",
        "OnlineLearningAnswer",
        "PendingModelVersion",
        "PredictionLogRecord",
        "Project",
        "RankedItem",
        "Readiness",
        "RealtimeMonitor",
        "RecommendArguments",
        "Recommendation",
        "RefreshPolicy",
        "ResponseLogRecord",
        "StatisticsFigures",
        "StatisticsInterval",
        "UploadedFile",
        "Webhook",
        "WebhookDelivery",
    ]
    public = {name for name in vars(sdk) if not name.startswith("_")}
    assert public - {"annotations"} <= set(sdk.__all__)
    for name in sdk.__all__:
        assert getattr(sdk, name).__module__.startswith("recostack.client._"), name


def test_projects_deployments_and_serving(live_server: LiveServer) -> None:
    with live_server.client() as client:
        project = client.create_project("sdk", project_description="SDK test", data_lead="Ada")
        assert isinstance(project, Project) and project.data_lead == "Ada"
        with pytest.raises(Conflict):
            client.create_project("sdk")
        deployment = client.create_deployment(
            "sdk",
            "sdk-web",
            description="through the SDK",
            model_id=live_server.model_id,
            default_prediction_arguments={"recommendationCount": 3},
        )
        assert isinstance(deployment, Deployment)
        assert deployment.wait_for_deployment(timeout=30).status == "ACTIVE"
        assert deployment.get_status() == "ACTIVE"
        assert deployment.model_version == live_server.model_id
        assert deployment.to_dict()["modelVersion"] == live_server.model_id
        assert [d.deployment_id for d in client.list_deployments("sdk")] == ["sdk-web"]
        deployment.update(description="changed")
        assert deployment.description == "changed"
        assert deployment.describe().description == "changed"
        deployment.set_auto(True)
        assert deployment.refresh().auto_deploy is True
        deployment.set_default_prediction_arguments({"recommendation_count": 2})
        assert deployment.default_prediction_arguments == {"recommendationCount": 2}
        answer = deployment.recommend(user_id="user1", item_id="item1")
        assert isinstance(answer, DeploymentRecommendation)
        assert len(answer.items) == 2 and answer.deployment_id == "sdk-web"
        assert answer.item_ids == [item.item_id for item in answer.items]
        assert [item.rank for item in answer.items] == [1, 2]
        with Client(live_server.url, RECOMMEND_KEY) as recommender:
            taken = recommender.log_response("sdk-web", answer.request_id, take_up=True)
            assert isinstance(taken, ResponseLogRecord) and taken.take_up is True
            with pytest.raises(Forbidden):
                recommender.list_projects()
        with pytest.raises(NotFound) as missing:
            deployment.log_response("no-such-request", take_up=False)
        assert missing.value.field == "requestId"
        wait_until_logged(deployment, answer.request_id)
        logs = deployment.get_prediction_logs_records(limit=5)
        assert isinstance(logs[0], PredictionLogRecord)
        assert logs[0].request_id == answer.request_id
        assert [i.item_id for i in logs[0].items] == answer.item_ids
        responses = deployment.get_response_logs_records()
        assert responses[0].response_id == taken.response_id
        deployment.stop()
        assert deployment.status == "STOPPED"
        with pytest.raises(Conflict):
            deployment.recommend(item_id="item1")
        deployment.start().wait_for_deployment(timeout=30)
        assert deployment.status == "ACTIVE"
        with pytest.raises(Conflict):
            client.delete_project("sdk")
        deployment.delete()
        with pytest.raises(NotFound):
            client.describe_deployment("sdk-web")
        client.delete_project("sdk")


def test_model_api_and_errors(live_server: LiveServer) -> None:
    with live_server.client() as client:
        model = client.get_model(live_server.model_id)
        assert isinstance(model, Model)
        assert model.model_status == model.status == "Completed"
        assert model.parameters is not None and model.statistics is not None
        similar = client.recommend(live_server.model_id, item_id="item1", recommendation_count=3)
        assert similar and all(isinstance(r, Recommendation) for r in similar)
        assert len(client.recommend(live_server.model_id, user_id="user1")) <= 10
        with pytest.raises(Invalid) as invalid:
            client.recommend(live_server.model_id, item_id="item1", recommendation_count=0)
        assert invalid.value.field == "recommendationCount"
        with pytest.raises(NotFound):
            client.get_model("00000000-0000-0000-0000-000000000000")
