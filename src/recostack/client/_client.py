"""``Client(base_url, api_key)``: one method per call of the HTTP API, over httpx.

Names follow the references in snake_case (``create_project``,
``create_deployment``, ``list_deployments``, ``upload_file``,
``create_model``, ...). Each call is written here once; the resource
objects (:class:`Model`, :class:`Project`, :class:`Deployment`) delegate to
these methods. Answers are typed objects whose ``to_dict()`` is the JSON
the server sent; error answers raise the classes of :mod:`recostack.errors`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Unpack

from recostack.client._batch_calls import BatchCalls
from recostack.client._deployment import Deployment
from recostack.client._http import HttpSession, request_content, version_params
from recostack.client._logs import PredictionLogRecord, ResponseLogRecord, log_page_params
from recostack.client._model import Model
from recostack.client._online_learning_calls import OnlineLearningCalls
from recostack.client._operations_calls import OperationsCalls
from recostack.client._polling import poll_until
from recostack.client._project import Project
from recostack.client._recommendations import (
    DeploymentRecommendation,
    RecommendArguments,
    Recommendation,
)
from recostack.client._uploads import CustomersWritten, UploadedFile
from recostack.client._wire import camel_body
from recostack.errors import TrainingFailed

__all__ = ["Client"]


class Client(OnlineLearningCalls, OperationsCalls, BatchCalls, HttpSession):
    """The Recostack API: ``Client(base_url, api_key)``, closed by ``with`` or ``close()``."""

    # --- files and models ---------------------------------------------------------------
    def upload_file(self, container: str, path: str, data: bytes | str | Path) -> UploadedFile:
        """Upload ``data`` (bytes, text, or a local file) to ``container``/``path``."""
        answer = self._call("PUT", f"/api/files/{container}/{path}", content=request_content(data))
        return UploadedFile.from_wire(answer)

    def create_model(self, project_id: str | None = None, **parameters: Any) -> Model:
        """Train a model: the reference's parameters (``blob_container_name=...``, ...).

        With ``project_id`` the trained model is offered to the project's
        auto-deploy deployments.
        """
        body = camel_body({**parameters, "project_id": project_id})
        return Model.bound(self, self._call("POST", "/api/models", json=body))

    def get_model(self, model_id: str) -> Model:
        return Model.bound(self, self._call("GET", f"/api/models/{model_id}"))

    def list_models(self) -> list[Model]:
        return Model.bound_list(self, self._call("GET", "/api/models"))

    def delete_model(self, model_id: str) -> None:
        self._call("DELETE", f"/api/models/{model_id}")

    def set_default_model(self, model_id: str) -> None:
        self._call("PUT", "/api/models/default", params={"modelId": model_id})

    def wait_for_model(self, model_id: str, timeout: float = 900) -> Model:
        """Poll until training ends: the Completed model, or :class:`TrainingFailed`."""
        model = poll_until(
            lambda: self.get_model(model_id),
            lambda m: m.model_status in ("Completed", "Failed"),
            timeout=timeout,
            every=self.poll_seconds,
            waiting_for=lambda m: f"model {model_id} still {m.model_status}",
        )
        if model.model_status == "Failed":
            raise TrainingFailed(
                f"model {model_id} failed: {model.model_status_message}", detail=model.to_dict()
            )
        return model

    def recommend(
        self,
        model_id: str = "default",
        *,
        item_id: str | None = None,
        user_id: str | None = None,
        events: list[dict[str, Any]] | None = None,
        recommendation_count: int = 10,
    ) -> list[Recommendation]:
        """The model API: item-to-item with ``item_id``, else personalized."""
        path = f"/api/models/{model_id}/recommend"
        params: dict[str, Any] = {"recommendationCount": recommendation_count}
        if item_id is not None:
            answer = self._call("GET", path, params={**params, "itemId": item_id})
        else:
            if user_id is not None:
                params["userId"] = user_id
            answer = self._call("POST", path, params=params, json=events or [])
        return Recommendation.list_from_wire(answer)

    # --- projects -----------------------------------------------------------------------
    def create_project(
        self,
        project_id: str,
        project_description: str | None = None,
        project_type: str | None = None,
        purpose: str | None = None,
        project_start_date: str | None = None,
        project_end_date: str | None = None,
        data_science_lead: str | None = None,
        data_lead: str | None = None,
    ) -> Project:
        body = camel_body(dict(locals(), self=None))
        return Project.bound(self, self._call("POST", "/api/projects", json=body))

    def describe_project(self, project_id: str) -> Project:
        return Project.bound(self, self._call("GET", f"/api/projects/{project_id}"))

    def list_projects(self) -> list[Project]:
        return Project.bound_list(self, self._call("GET", "/api/projects"))

    def update_project(self, project_id: str, **changes: Any) -> Project:
        """Change fields given by their ``create_project`` names (``data_lead=...``)."""
        answer = self._call("PATCH", f"/api/projects/{project_id}", json=camel_body(changes))
        return Project.bound(self, answer)

    def delete_project(self, project_id: str) -> None:
        self._call("DELETE", f"/api/projects/{project_id}")

    # --- deployments --------------------------------------------------------------------
    def create_deployment(
        self,
        project_id: str,
        deployment_id: str,
        description: str | None = None,
        version: str = "1",
        project_status: str = "experiment",
        model_id: str | None = None,
        **settings: Any,
    ) -> Deployment:
        """Create a deployment version; settings are the reference's (``whitelist=...``, ...)."""
        body = camel_body(
            {
                "deployment_id": deployment_id,
                "description": description,
                "version": version,
                "project_status": project_status,
                "model_id": model_id,
                **settings,
            }
        )
        answer = self._call("POST", f"/api/projects/{project_id}/deployments", json=body)
        return Deployment.bound(self, answer)

    def describe_deployment(self, deployment_id: str, version: str | None = None) -> Deployment:
        answer = self._call(
            "GET", f"/api/deployments/{deployment_id}", params=version_params(version)
        )
        return Deployment.bound(self, answer)

    def list_deployments(self, project_id: str) -> list[Deployment]:
        answer = self._call("GET", f"/api/projects/{project_id}/deployments")
        return Deployment.bound_list(self, answer)

    def update_deployment(
        self,
        deployment_id: str,
        description: str | None = None,
        auto_deploy: bool | None = None,
        skip_metrics_check: bool | None = None,
        version: str | None = None,
    ) -> Deployment:
        body = camel_body(
            {
                "description": description,
                "auto_deploy": auto_deploy,
                "skip_metrics_check": skip_metrics_check,
            }
        )
        path = f"/api/deployments/{deployment_id}"
        answer = self._call("PATCH", path, json=body, params=version_params(version))
        return Deployment.bound(self, answer)

    def _deployment_action(
        self, deployment_id: str, action: str, version: str | None, body: Any = None
    ) -> Deployment:
        path = f"/api/deployments/{deployment_id}/{action}"
        answer = self._call("POST", path, params=version_params(version), json=body)
        return Deployment.bound(self, answer)

    def start_deployment(self, deployment_id: str, version: str | None = None) -> Deployment:
        return self._deployment_action(deployment_id, "start", version)

    def stop_deployment(self, deployment_id: str, version: str | None = None) -> Deployment:
        return self._deployment_action(deployment_id, "stop", version)

    def delete_deployment(self, deployment_id: str, version: str | None = None) -> None:
        self._call("DELETE", f"/api/deployments/{deployment_id}", params=version_params(version))

    def set_deployment_model_version(
        self,
        deployment_id: str,
        model_version: str,
        algorithm: str | None = None,
        model_deployment_config: dict[str, Any] | None = None,
        version: str | None = None,
    ) -> Deployment:
        """Serve ``model_version`` (loaded before the switch; see ``pending_model_version``)."""
        body = camel_body(
            {
                "model_version": model_version,
                "algorithm": algorithm,
                "model_deployment_config": model_deployment_config,
            }
        )
        return self._deployment_action(deployment_id, "set-model-version", version, body)

    def rollback_deployment(self, deployment_id: str, version: str | None = None) -> Deployment:
        """Return to the model version served before the current one."""
        return self._deployment_action(deployment_id, "rollback", version)

    def set_default_prediction_arguments(
        self,
        deployment_id: str,
        prediction_arguments: dict[str, Any],
        set_as_override: bool = False,
        version: str | None = None,
    ) -> Deployment:
        body = {
            "predictionArguments": camel_body(prediction_arguments),
            "setAsOverride": set_as_override,
        }
        path = f"/api/deployments/{deployment_id}/default-prediction-arguments"
        answer = self._call("PUT", path, json=body, params=version_params(version))
        return Deployment.bound(self, answer)

    # --- serving through a deployment, and its logs -------------------------------------
    def recommend_deployment(
        self, deployment_id: str, **arguments: Unpack[RecommendArguments]
    ) -> DeploymentRecommendation:
        """``recommend_deployment("web", user_id=..., item_id=..., recommendation_count=...)``."""
        path = f"/api/deployments/{deployment_id}/recommend"
        answer = self._call("POST", path, json=camel_body(dict(arguments)))
        return DeploymentRecommendation.from_wire(answer)

    def log_response(
        self,
        deployment_id: str,
        request_id: str,
        item_id: str | None = None,
        event: str | None = None,
        reward: float | None = None,
        take_up: bool | None = None,
    ) -> ResponseLogRecord:
        """Record a response (take-up, an event, a reward) to the answer ``request_id``."""
        body = camel_body(
            {
                "request_id": request_id,
                "item_id": item_id,
                "event": event,
                "reward": reward,
                "take_up": take_up,
            }
        )
        answer = self._call("POST", f"/api/deployments/{deployment_id}/responses", json=body)
        return ResponseLogRecord.from_wire(answer)

    def get_prediction_logs_records(
        self,
        deployment_id: str,
        limit: int = 10,
        last_log_request_id: str = "",
        last_log_timestamp: str | datetime | None = None,
    ) -> list[PredictionLogRecord]:
        """The newest answers first; page on with ``**records[-1].next_page()``."""
        params = log_page_params(limit, last_log_request_id, last_log_timestamp)
        page = self._call("GET", f"/api/deployments/{deployment_id}/prediction-logs", params=params)
        return PredictionLogRecord.list_from_wire(page)

    def get_response_logs_records(
        self,
        deployment_id: str,
        limit: int = 10,
        last_log_request_id: str = "",
        last_log_timestamp: str | datetime | None = None,
    ) -> list[ResponseLogRecord]:
        """The newest responses first; page on with ``**records[-1].next_page()``."""
        params = log_page_params(limit, last_log_request_id, last_log_timestamp)
        page = self._call("GET", f"/api/deployments/{deployment_id}/response-logs", params=params)
        return ResponseLogRecord.list_from_wire(page)

    # --- customers ----------------------------------------------------------------------
    def upload_customers(
        self, collection: str, data: bytes | str | Path, key: str | None = None
    ) -> CustomersWritten:
        """Load a customer CSV file (header row; ``key`` the id column) into ``collection``."""
        answer = self._call(
            "PUT",
            f"/api/customers/{collection}",
            content=request_content(data),
            params={"key": key} if key is not None else None,
            headers={"content-type": "text/csv"},
        )
        return CustomersWritten.from_wire(answer)

    def add_customers(
        self, collection: str, records: dict[str, dict[str, Any]]
    ) -> CustomersWritten:
        """Insert or replace ``{customer id: fields}``."""
        body = [{"customerId": k, "fields": v} for k, v in records.items()]
        return CustomersWritten.from_wire(
            self._call("POST", f"/api/customers/{collection}", json=body)
        )
