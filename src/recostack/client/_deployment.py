"""The ``Deployment`` resource object: the reference's fields and methods, over a Client."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from pydantic.alias_generators import to_snake

from recostack.errors import Unavailable

if TYPE_CHECKING:
    from recostack.client._client import Client

__all__ = ["Deployment"]

#: the reference's Deployment fields, snake_case (each is an attribute)
FIELDS = (
    "deployment_id",
    "name",
    "version",
    "status",
    "description",
    "deployed_at",
    "created_at",
    "project_id",
    "project_status",
    "model_id",
    "model_version",
    "model_ids",
    "model_version_history",
    "algorithm",
    "algo_name",
    "auto_deploy",
    "skip_metrics_check",
    "last_auto_deploy",
    "pending_model_version",
    "error",
    "refresh_schedules",
    "default_prediction_arguments",
    "set_as_override",
    "business_rules",
    "default_scenario",
    "whitelist",
    "model_selector",
    "parameter_access",
    "pattern_selector",
    "corpora",
    "logging",
)


class Deployment:
    """A deployment version as the server described it, with its methods."""

    deployment_id: str
    version: str
    status: str
    pending_model_version: dict[str, Any] | None
    #: the last auto-deploy decision: {"modelVersion", "decision", "reason", "at"}
    last_auto_deploy: dict[str, Any] | None

    def __init__(self, client: Client, body: dict[str, Any]) -> None:
        self.client = client
        self._set(body)

    def _set(self, body: dict[str, Any]) -> None:
        values = {to_snake(k): v for k, v in body.items()}
        for name in FIELDS:
            setattr(self, name, values.get(name))

    def __repr__(self) -> str:
        return (
            f"Deployment(deployment_id={self.deployment_id!r}, version={self.version!r}, "
            f"status={self.status!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The deployment's fields (snake_case)."""
        return {name: getattr(self, name) for name in FIELDS}

    # --- describing ----------------------------------------------------------------
    def describe(self) -> Deployment:
        return self.client.describe_deployment(self.deployment_id, self.version)

    def refresh(self) -> Deployment:
        """Describe again and update this object's fields."""
        self._set(self.client._deployment_body(self.deployment_id, self.version))
        return self

    def get_status(self) -> str:
        return self.describe().status

    def wait_for_deployment(
        self,
        wait_states: Collection[str] = frozenset({"PENDING", "DEPLOYING"}),
        timeout: float = 900,
    ) -> Deployment:
        """Poll until the status leaves ``wait_states`` (:class:`Unavailable` on timeout)."""
        deadline = time.monotonic() + timeout
        while self.refresh().status in wait_states:
            if time.monotonic() > deadline:
                raise Unavailable(
                    f"deployment {self.deployment_id!r} still {self.status} after {timeout} s"
                )
            time.sleep(self.client.poll_seconds)
        return self

    def wait_for_pending_deployment_update(self, timeout: float = 900) -> Deployment:
        """Poll until no model switch is pending and the status is stable."""
        deadline = time.monotonic() + timeout
        while self.refresh().pending_model_version or self.status in ("PENDING", "DEPLOYING"):
            if time.monotonic() > deadline:
                raise Unavailable(f"deployment {self.deployment_id!r}: switch still pending")
            time.sleep(self.client.poll_seconds)
        return self

    # --- management -------------------------------------------------------------------
    def update(
        self,
        description: str | None = None,
        auto_deploy: bool | None = None,
        skip_metrics_check: bool | None = None,
    ) -> Deployment:
        return self._with(
            self.client.update_deployment(
                self.deployment_id,
                description=description,
                auto_deploy=auto_deploy,
                skip_metrics_check=skip_metrics_check,
                version=self.version,
            )
        )

    def set_auto(self, enable: bool | None = None) -> Deployment:
        return self.update(auto_deploy=bool(enable))

    def start(self) -> Deployment:
        return self._with(self.client.start_deployment(self.deployment_id, self.version))

    def stop(self) -> Deployment:
        return self._with(self.client.stop_deployment(self.deployment_id, self.version))

    def delete(self) -> None:
        self.client.delete_deployment(self.deployment_id, self.version)

    def set_model_version(
        self,
        model_version: str,
        algorithm: str | None = None,
        model_deployment_config: dict[str, Any] | None = None,
    ) -> Deployment:
        return self._with(
            self.client.set_deployment_model_version(
                self.deployment_id,
                model_version,
                algorithm=algorithm,
                model_deployment_config=model_deployment_config,
                version=self.version,
            )
        )

    def rollback(self) -> Deployment:
        return self._with(self.client.rollback_deployment(self.deployment_id, self.version))

    def set_default_prediction_arguments(
        self, prediction_arguments: dict[str, Any], set_as_override: bool = False
    ) -> Deployment:
        return self._with(
            self.client.set_default_prediction_arguments(
                self.deployment_id, prediction_arguments, set_as_override, version=self.version
            )
        )

    # --- serving and logs ---------------------------------------------------------------
    def recommend(self, **arguments: Any) -> dict[str, Any]:
        """``recommend(user_id=..., item_id=..., events=..., recommendation_count=...)``."""
        return self.client.recommend_deployment(self.deployment_id, **arguments)

    def log_response(
        self,
        request_id: str,
        item_id: str | None = None,
        event: str | None = None,
        reward: float | None = None,
        take_up: bool | None = None,
    ) -> dict[str, Any]:
        return self.client.log_response(
            self.deployment_id,
            request_id,
            item_id=item_id,
            event=event,
            reward=reward,
            take_up=take_up,
        )

    def get_prediction_logs_records(
        self, limit: int = 10, last_log_request_id: str = "", last_log_timestamp: Any = None
    ) -> list[dict[str, Any]]:
        return self.client.get_prediction_logs_records(
            self.deployment_id, limit, last_log_request_id, last_log_timestamp
        )

    def get_response_logs_records(
        self, limit: int = 10, last_log_request_id: str = "", last_log_timestamp: Any = None
    ) -> list[dict[str, Any]]:
        return self.client.get_response_logs_records(
            self.deployment_id, limit, last_log_request_id, last_log_timestamp
        )

    def _with(self, other: Deployment) -> Deployment:
        for name in FIELDS:
            setattr(self, name, getattr(other, name))
        return self
