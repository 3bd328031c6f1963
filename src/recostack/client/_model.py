"""The ``Model`` resource: the reference's Model object, with methods over the client's calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from recostack.client._recommendations import Recommendation
from recostack.client._wire import Resource

__all__ = ["Model", "ModelCalls"]


class ModelCalls(Protocol):
    """The calls of the client a :class:`Model` uses."""

    def get_model(self, model_id: str) -> Model: ...

    def delete_model(self, model_id: str) -> None: ...

    def set_default_model(self, model_id: str) -> None: ...

    def wait_for_model(self, model_id: str, timeout: float = ...) -> Model: ...

    def recommend(
        self,
        model_id: str = ...,
        *,
        item_id: str | None = ...,
        user_id: str | None = ...,
        events: list[dict[str, Any]] | None = ...,
        recommendation_count: int = ...,
    ) -> list[Recommendation]: ...


class Model(Resource[ModelCalls]):
    """A trained (or training) model.

    ``list_models`` describes each model in brief (id, description, time,
    status); ``get_model`` and :meth:`refresh` give every field.
    """

    id: str
    description: str | None = None
    creation_time: datetime
    #: Created, InProgress, Completed or Failed
    model_status: str
    model_status_message: str | None = None
    parameters: dict[str, Any] | None = None
    statistics: dict[str, Any] | None = None
    #: the project whose auto-deploy deployments are offered the model
    project_id: str | None = None

    @property
    def status(self) -> str:
        return self.model_status

    def __repr__(self) -> str:
        return f"Model(id={self.id!r}, model_status={self.model_status!r})"

    def describe(self) -> Model:
        return self._client.get_model(self.id)

    def refresh(self) -> Model:
        """Describe again and take the new fields; self."""
        return self._replace_with(self.describe())

    def wait_for_training(self, timeout: float = 900) -> Model:
        """Wait until training ends; self (:class:`TrainingFailed` if it fails)."""
        return self._replace_with(self._client.wait_for_model(self.id, timeout))

    def set_default(self) -> None:
        """Make this model the one ``/api/models/default/...`` serves."""
        self._client.set_default_model(self.id)

    def delete(self) -> None:
        self._client.delete_model(self.id)

    def recommend(
        self,
        *,
        item_id: str | None = None,
        user_id: str | None = None,
        events: list[dict[str, Any]] | None = None,
        recommendation_count: int = 10,
    ) -> list[Recommendation]:
        """Item-to-item with ``item_id``, else personalized (``user_id``, ``events``)."""
        return self._client.recommend(
            self.id,
            item_id=item_id,
            user_id=user_id,
            events=events,
            recommendation_count=recommendation_count,
        )
