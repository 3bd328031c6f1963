"""The Recostack Python SDK: ``Client(base_url, api_key)`` and typed answers.

``Client`` has one method per call of the HTTP API; ``Model``, ``Project``
and ``Deployment`` are resource objects whose methods delegate to it. Every
answer is a typed object whose ``to_dict()`` is the JSON the server sent.
Errors raise the library's own classes (:mod:`recostack.errors`)::

    from recostack.client import Client

    with Client("http://127.0.0.1:8000", api_key) as client:
        deployment = client.describe_deployment("web")
        answer = deployment.recommend(user_id="u1", recommendation_count=5)
        print(answer.item_ids, answer.request_id)
"""

from recostack.client._batch import (
    BatchInferenceJob,
    BatchPrediction,
    Campaign,
    CampaignRecommendations,
)
from recostack.client._client import Client
from recostack.client._deployment import Deployment
from recostack.client._deployment_state import (
    AutoDeployDecision,
    ModelVersionEntry,
    PendingModelVersion,
)
from recostack.client._logs import LogCursor, PredictionLogRecord, ResponseLogRecord
from recostack.client._model import Model
from recostack.client._operations import (
    Alert,
    AlertEvent,
    DeploymentStatistics,
    MonitorResult,
    Readiness,
    RealtimeMonitor,
    RefreshPolicy,
    StatisticsFigures,
    StatisticsInterval,
    Webhook,
    WebhookDelivery,
)
from recostack.client._project import Project
from recostack.client._recommendations import (
    DeploymentRecommendation,
    OnlineLearningAnswer,
    RankedItem,
    RecommendArguments,
    Recommendation,
)
from recostack.client._uploads import CustomersWritten, UploadedFile

__all__ = [
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
