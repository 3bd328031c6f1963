"""Request and response bodies, with the reference's camelCase names.

``TrainingParameters`` lives with the training code; the Create schema of
a model (:class:`ModelCreate`) adds the project to it; the rest is here.
The recommend endpoints write their answers with orjson directly;
:class:`RecommendationPublic` documents them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator
from pydantic.alias_generators import to_camel

from recostack.api.inputs import ContainerName, ItemId, RelativePath
from recostack.data.events import EVENT_TYPE_WEIGHTS, EventType
from recostack.store.files import StoredFile
from recostack.store.tables import ModelRow
from recostack.training.parameters import TrainingParameters
from recostack.training.status import ModelStatus

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
    project's auto-deploy deployments once it is trained. The container and
    the paths are declared as the files API takes them (a file another
    name could reach, such as ``a//b``, is named one way only).
    """

    blob_container_name: ContainerName | None = None
    usage_relative_path: RelativePath
    catalog_file_relative_path: RelativePath | None = None
    evaluation_usage_relative_path: RelativePath | None = None
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
    """One recent usage event in the body of a recommend call (strict: JSON types as the
    document states them, a timestamp as an ISO 8601 text)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", strict=True
    )

    item_id: ItemId
    timestamp: datetime | None = Field(default=None, description="default: now (UTC)")
    event_type: EventType | None = Field(
        default=None, description="default Click; the case of the letters does not matter"
    )
    weight: float | None = Field(
        default=None, allow_inf_nan=False, description="if given, eventType is ignored"
    )

    @field_validator("event_type", mode="before")
    @classmethod
    def _spelled_as_the_reference(cls, value: Any) -> Any:
        """``purchase`` and `` Purchase`` are Purchase (as in usage files); ``""``: Click."""
        if isinstance(value, str):
            return _EVENT_TYPES.get(value.strip().lower(), value) if value.strip() else None
        return value


_EVENT_TYPES = {name.lower(): name for name in EVENT_TYPE_WEIGHTS}


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
