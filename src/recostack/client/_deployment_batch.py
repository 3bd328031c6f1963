"""The reference's batch methods of a ``Deployment``, each delegating to one client call."""

from __future__ import annotations

from typing import Any, Protocol, cast

from recostack.client._batch import BatchPrediction

__all__ = ["BatchOfDeployment", "DeploymentBatch"]


class BatchOfDeployment(Protocol):
    """The calls of the client these methods use."""

    def create_batch_prediction(
        self,
        deployment_id: str,
        name: str | None = ...,
        global_prediction_args: dict[str, Any] | None = ...,
        batch_prediction_args: dict[str, Any] | None = ...,
        output_format: str | None = ...,
        output_location: str | None = ...,
        refresh_schedule: str | None = ...,
        csv_input_prefix: str | None = ...,
        csv_prediction_prefix: str | None = ...,
        output_includes_metadata: bool | None = ...,
        result_input_columns: list[str] | None = ...,
    ) -> BatchPrediction: ...

    def list_batch_predictions(self, deployment_id: str) -> list[BatchPrediction]: ...


class DeploymentBatch:
    """Mixed into :class:`~recostack.client.Deployment` (which has ``deployment_id`` and a
    client holding these calls)."""

    def _batch(self) -> tuple[BatchOfDeployment, str]:
        client = cast(BatchOfDeployment, getattr(self, "_client"))  # noqa: B009
        return client, str(getattr(self, "deployment_id"))  # noqa: B009

    def create_batch_prediction(
        self,
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
        """A batch prediction through this deployment's pipeline (its first version runs at
        once; ``refresh_schedule``, a cron in UTC, runs it again)."""
        client, deployment_id = self._batch()
        return client.create_batch_prediction(
            deployment_id,
            name,
            global_prediction_args,
            batch_prediction_args,
            output_format,
            output_location,
            refresh_schedule,
            csv_input_prefix,
            csv_prediction_prefix,
            output_includes_metadata,
            result_input_columns,
        )

    def list_batch_predictions(self) -> list[BatchPrediction]:
        client, deployment_id = self._batch()
        return client.list_batch_predictions(deployment_id)
