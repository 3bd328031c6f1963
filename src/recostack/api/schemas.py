"""Request and response bodies, with the reference's camelCase names.

``TrainingParameters`` lives with the training code; the Create schema of
a model (:class:`ModelCreate`) adds the project to it; the rest is here.
The recommend endpoints write their answers with orjson directly;
:class:`RecommendationPublic` documents them.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator
from pydantic.alias_generators import to_camel

from recostack.data.events import EVENT_TYPE_WEIGHTS, event_weight
from recostack.store.files import StoredFile
from recostack.store.tables import ModelRow, ModelStatus
from recostack.training.parameters import TrainingParameters

__all__ = [
    "FilePublic",
    "FileUploadPublic",
    "ModelCreate",
    "ModelPublic",
    "ModelSummary",
    "RecommendationPublic",
    "UsageEventCreate",
]


def format_time(value: datetime) -> str:
    """``2017-05-04T00:26:06.386324Z``, as the reference writes times."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ModelSummary(_Camel):
    """A model in ``GET /api/models``."""

    id: str
    description: str | None
    creation_time: datetime
    model_status: ModelStatus

    @field_serializer("creation_time")
    def _time(self, value: datetime) -> str:
        return format_time(value)

    @classmethod
    def of(cls, row: ModelRow) -> ModelSummary:
        return cls(
            id=row.id,
            description=row.description,
            creation_time=row.creation_time,
            model_status=ModelStatus(row.status),
        )


class ModelCreate(TrainingParameters):
    """The body of ``POST /api/models``: the training parameters and, optionally, a project.

    ``projectId`` (a Recostack extension) makes the model eligible for the
    project's auto-deploy deployments once it is trained.
    """

    project_id: str | None = Field(default=None, min_length=1, max_length=128)

    def training_parameters(self) -> TrainingParameters:
        return TrainingParameters.model_validate(self.model_dump(exclude={"project_id"}))


class ModelPublic(ModelSummary):
    """The reference's Model object, with the project it belongs to (``projectId``)."""

    model_status_message: str | None
    parameters: dict[str, Any]
    statistics: dict[str, Any] | None
    project_id: str | None

    @classmethod
    def of(cls, row: ModelRow) -> ModelPublic:
        return cls(
            id=row.id,
            description=row.description,
            creation_time=row.creation_time,
            model_status=ModelStatus(row.status),
            model_status_message=row.status_message,
            parameters=row.parameters,
            statistics=row.statistics,
            project_id=row.project_id,
        )


class UsageEventCreate(_Camel):
    """One recent usage event in the body of ``POST .../recommend``."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    item_id: str = Field(min_length=1, max_length=450)
    timestamp: datetime | None = Field(default=None, description="default: now (UTC)")
    event_type: str | None = Field(
        default=None,
        description="one of " + ", ".join(EVENT_TYPE_WEIGHTS) + " (default Click)",
        max_length=64,
    )
    weight: float | None = Field(default=None, description="if given, eventType is ignored")

    @field_validator("event_type")
    @classmethod
    def _known_event_type(cls, value: str | None) -> str | None:
        if value is not None and event_weight(value) is None:
            raise ValueError("must be one of " + ", ".join(EVENT_TYPE_WEIGHTS))
        return value

    @field_validator("weight")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class RecommendationPublic(_Camel):
    recommended_item_id: str
    score: float


class FilePublic(_Camel):
    """A stored input file; ``path`` is relative to its container."""

    path: str
    size: int
    modified_time: str

    @classmethod
    def of(cls, stored: StoredFile) -> FilePublic:
        return cls(
            path=stored.path, size=stored.size, modified_time=format_time(stored.modified_time)
        )


class FileUploadPublic(FilePublic):
    container: str

    @classmethod
    def uploaded(cls, container: str, stored: StoredFile) -> FileUploadPublic:
        return cls(container=container, **FilePublic.of(stored).model_dump())
