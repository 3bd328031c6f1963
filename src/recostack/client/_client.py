"""``Client(base_url, api_key)``: the management and serving functions, over httpx.

Names follow the references in snake_case (``create_project``,
``create_deployment``, ``list_deployments``, ``upload_file``,
``create_model``, ...). Error answers raise the classes of
:mod:`recostack.errors`, with the server's message and field.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from pydantic.alias_generators import to_camel

from recostack.client._deployment import Deployment
from recostack.client._errors import error_from_response
from recostack.errors import TrainingFailed, Unavailable

__all__ = ["Client"]

API_KEY_HEADER = "x-api-key"


def _camel(values: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments as a body: camelCase, ``None`` left out."""
    return {to_camel(k): v for k, v in values.items() if v is not None}


class Client:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.BaseTransport | None = None,
        poll_seconds: float = 0.2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.poll_seconds = poll_seconds
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={API_KEY_HEADER: api_key},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise error_from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.content

    # --- files and models --------------------------------------------------------
    def upload_file(self, container: str, path: str, data: bytes | str | Path) -> dict[str, Any]:
        """Upload ``data`` (bytes, text, or a local file) to ``container``/``path``."""
        if isinstance(data, Path):
            data = data.read_bytes()
        content = data.encode() if isinstance(data, str) else data
        result: dict[str, Any] = self._call(
            "PUT", f"/api/files/{container}/{path}", content=content
        )
        return result

    def create_model(self, project_id: str | None = None, **parameters: Any) -> dict[str, Any]:
        """Train a model: the reference's parameters (``blob_container_name=...``, ...).

        With ``project_id`` the trained model is offered to the project's
        auto-deploy deployments.
        """
        body = _camel({**parameters, "project_id": project_id})
        result: dict[str, Any] = self._call("POST", "/api/models", json=body)
        return result

    def get_model(self, model_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/api/models/{model_id}")
        return result

    def list_models(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/api/models")
        return result

    def delete_model(self, model_id: str) -> None:
        self._call("DELETE", f"/api/models/{model_id}")

    def set_default_model(self, model_id: str) -> None:
        self._call("PUT", "/api/models/default", params={"modelId": model_id})

    def wait_for_model(self, model_id: str, timeout: float = 900) -> dict[str, Any]:
        """Poll until training ends: the Completed model, or :class:`TrainingFailed`."""
        deadline = time.monotonic() + timeout
        while True:
            model = self.get_model(model_id)
            if model["modelStatus"] == "Completed":
                return model
            if model["modelStatus"] == "Failed":
                raise TrainingFailed(
                    f"model {model_id} failed: {model.get('modelStatusMessage')}", detail=model
                )
            if time.monotonic() > deadline:
                raise Unavailable(
                    f"model {model_id} still {model['modelStatus']} after {timeout} s"
                )
            time.sleep(self.poll_seconds)

    def recommend(
        self,
        model_id: str = "default",
        *,
        item_id: str | None = None,
        user_id: str | None = None,
        events: list[dict[str, Any]] | None = None,
        recommendation_count: int = 10,
    ) -> list[dict[str, Any]]:
        """The model API: item-to-item with ``item_id``, else personalized."""
        path = f"/api/models/{model_id}/recommend"
        params: dict[str, Any] = {"recommendationCount": recommendation_count}
        if item_id is not None:
            params["itemId"] = item_id
            result: list[dict[str, Any]] = self._call("GET", path, params=params)
            return result
        if user_id is not None:
            params["userId"] = user_id
        result = self._call("POST", path, params=params, json=events or [])
        return result

    # --- projects ------------------------------------------------------------------
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
    ) -> dict[str, Any]:
        body = _camel(dict(locals(), self=None))
        result: dict[str, Any] = self._call("POST", "/api/projects", json=body)
        return result

    def describe_project(self, project_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/api/projects/{project_id}")
        return result

    def list_projects(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/api/projects")
        return result

    def update_project(self, project_id: str, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PATCH", f"/api/projects/{project_id}", json=_camel(changes)
        )
        return result

    def delete_project(self, project_id: str) -> None:
        self._call("DELETE", f"/api/projects/{project_id}")

    # --- deployments -----------------------------------------------------------------
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
        body = _camel(
            {
                "deployment_id": deployment_id,
                "description": description,
                "version": version,
                "project_status": project_status,
                "model_id": model_id,
                **settings,
            }
        )
        created = self._call("POST", f"/api/projects/{project_id}/deployments", json=body)
        return Deployment(self, created)

    def _deployment_body(self, deployment_id: str, version: str | None = None) -> dict[str, Any]:
        params = {"version": version} if version is not None else None
        result: dict[str, Any] = self._call(
            "GET", f"/api/deployments/{deployment_id}", params=params
        )
        return result

    def describe_deployment(self, deployment_id: str, version: str | None = None) -> Deployment:
        return Deployment(self, self._deployment_body(deployment_id, version))

    def list_deployments(self, project_id: str) -> list[Deployment]:
        rows = self._call("GET", f"/api/projects/{project_id}/deployments")
        return [Deployment(self, row) for row in rows]

    def _action(
        self, deployment_id: str, action: str, version: str | None, **kwargs: Any
    ) -> Deployment:
        params = {"version": version} if version is not None else None
        body = self._call(
            "POST", f"/api/deployments/{deployment_id}/{action}", params=params, **kwargs
        )
        return Deployment(self, body)

    def update_deployment(
        self,
        deployment_id: str,
        description: str | None = None,
        auto_deploy: bool | None = None,
        skip_metrics_check: bool | None = None,
        version: str | None = None,
    ) -> Deployment:
        body = _camel(
            {
                "description": description,
                "auto_deploy": auto_deploy,
                "skip_metrics_check": skip_metrics_check,
            }
        )
        params = {"version": version} if version is not None else None
        updated = self._call("PATCH", f"/api/deployments/{deployment_id}", json=body, params=params)
        return Deployment(self, updated)

    def start_deployment(self, deployment_id: str, version: str | None = None) -> Deployment:
        return self._action(deployment_id, "start", version)

    def stop_deployment(self, deployment_id: str, version: str | None = None) -> Deployment:
        return self._action(deployment_id, "stop", version)

    def delete_deployment(self, deployment_id: str, version: str | None = None) -> None:
        params = {"version": version} if version is not None else None
        self._call("DELETE", f"/api/deployments/{deployment_id}", params=params)

    def set_deployment_model_version(
        self,
        deployment_id: str,
        model_version: str,
        algorithm: str | None = None,
        model_deployment_config: dict[str, Any] | None = None,
        version: str | None = None,
    ) -> Deployment:
        body = _camel(
            {
                "model_version": model_version,
                "algorithm": algorithm,
                "model_deployment_config": model_deployment_config,
            }
        )
        return self._action(deployment_id, "set-model-version", version, json=body)

    def rollback_deployment(self, deployment_id: str, version: str | None = None) -> Deployment:
        return self._action(deployment_id, "rollback", version)

    def set_default_prediction_arguments(
        self,
        deployment_id: str,
        prediction_arguments: dict[str, Any],
        set_as_override: bool = False,
        version: str | None = None,
    ) -> Deployment:
        body = {
            "predictionArguments": _camel(prediction_arguments),
            "setAsOverride": set_as_override,
        }
        params = {"version": version} if version is not None else None
        updated = self._call(
            "PUT",
            f"/api/deployments/{deployment_id}/default-prediction-arguments",
            json=body,
            params=params,
        )
        return Deployment(self, updated)

    # --- serving through a deployment ---------------------------------------------------
    def recommend_deployment(self, deployment_id: str, **arguments: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"/api/deployments/{deployment_id}/recommend", json=_camel(arguments)
        )
        return result

    def log_response(
        self,
        deployment_id: str,
        request_id: str,
        item_id: str | None = None,
        event: str | None = None,
        reward: float | None = None,
        take_up: bool | None = None,
    ) -> dict[str, Any]:
        body = _camel(
            {
                "request_id": request_id,
                "item_id": item_id,
                "event": event,
                "reward": reward,
                "take_up": take_up,
            }
        )
        result: dict[str, Any] = self._call(
            "POST", f"/api/deployments/{deployment_id}/responses", json=body
        )
        return result

    def _logs(
        self,
        kind: str,
        deployment_id: str,
        limit: int,
        last_log_request_id: str,
        last_log_timestamp: str | datetime | None,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if last_log_request_id:
            params["last_log_request_id"] = last_log_request_id
        if last_log_timestamp is not None:
            params["last_log_timestamp"] = (
                last_log_timestamp.isoformat()
                if isinstance(last_log_timestamp, datetime)
                else last_log_timestamp
            )
        result: list[dict[str, Any]] = self._call(
            "GET", f"/api/deployments/{deployment_id}/{kind}", params=params
        )
        return result

    def get_prediction_logs_records(
        self,
        deployment_id: str,
        limit: int = 10,
        last_log_request_id: str = "",
        last_log_timestamp: str | datetime | None = None,
    ) -> list[dict[str, Any]]:
        """The newest answers first; pass the last record's requestId and timestamp to page."""
        return self._logs(
            "prediction-logs", deployment_id, limit, last_log_request_id, last_log_timestamp
        )

    def get_response_logs_records(
        self,
        deployment_id: str,
        limit: int = 10,
        last_log_request_id: str = "",
        last_log_timestamp: str | datetime | None = None,
    ) -> list[dict[str, Any]]:
        """The newest responses first; page with the last record's responseId and timestamp."""
        return self._logs(
            "response-logs", deployment_id, limit, last_log_request_id, last_log_timestamp
        )

    # --- customers ---------------------------------------------------------------------
    def upload_customers(
        self, collection: str, data: bytes | str | Path, key: str | None = None
    ) -> dict[str, Any]:
        """Load a customer CSV file (header row) into ``collection``."""
        if isinstance(data, Path):
            data = data.read_bytes()
        content = data.encode() if isinstance(data, str) else data
        params = {"key": key} if key is not None else None
        result: dict[str, Any] = self._call(
            "PUT",
            f"/api/customers/{collection}",
            content=content,
            params=params,
            headers={"content-type": "text/csv"},
        )
        return result

    def add_customers(self, collection: str, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Insert or replace ``{customer id: fields}``."""
        body = [{"customerId": k, "fields": v} for k, v in records.items()]
        result: dict[str, Any] = self._call("POST", f"/api/customers/{collection}", json=body)
        return result
