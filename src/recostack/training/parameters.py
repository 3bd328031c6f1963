"""Model training parameters, with the reference's names, defaults and ranges.

On the wire the names are camelCase exactly as the reference spells them;
in Python they are snake_case. Recostack adds ``algorithm`` (``sar`` by
default, ``itemknn`` or ``popularity``) and a few knobs of its own, each
marked below.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from recostack.errors import Invalid

__all__ = [
    "Algorithm",
    "CooccurrenceUnit",
    "SimilarityFunction",
    "TrainingParameters",
    "parse_training_parameters",
]


class Algorithm(StrEnum):
    SAR = "sar"
    ITEMKNN = "itemknn"
    POPULARITY = "popularity"


class CooccurrenceUnit(StrEnum):
    USER = "User"
    TIMESTAMP = "Timestamp"


class SimilarityFunction(StrEnum):
    COOCCURRENCE = "Cooccurrence"
    LIFT = "Lift"
    JACCARD = "Jaccard"


class TrainingParameters(BaseModel):
    """The Model Training Parameters object of the reference."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", use_enum_values=False
    )

    description: str | None = Field(default=None, max_length=256)
    blob_container_name: str | None = Field(default=None, max_length=255)
    usage_relative_path: str = Field(min_length=1, max_length=1024)
    catalog_file_relative_path: str | None = Field(default=None, max_length=1024)
    evaluation_usage_relative_path: str | None = Field(default=None, max_length=1024)
    support_threshold: int = Field(default=6, ge=3, le=50)
    cooccurrence_unit: CooccurrenceUnit = CooccurrenceUnit.USER
    similarity_function: SimilarityFunction = SimilarityFunction.JACCARD
    enable_cold_item_placement: bool = False
    enable_cold_to_cold_recommendations: bool = False
    enable_user_affinity: bool = False
    enable_backfilling: bool = True
    allow_seed_items_in_recommendations: bool = False
    decay_period_in_days: int = Field(default=30, ge=1, le=3650)
    enable_user_to_item_recommendations: bool = False
    # --- Recostack extensions -------------------------------------------------
    algorithm: Algorithm = Algorithm.SAR
    #: keep at most this many neighbours per item (0 keeps all); pruning makes
    #: scoring of large catalogs fast at a small, measured quality cost.
    max_neighbors: int = Field(default=0, ge=0, le=100_000)
    #: ItemKNN only: neighbours per item and BM25 constants.
    knn_neighbors: int = Field(default=100, ge=1, le=10_000)
    bm25_k1: float = Field(default=1.2, gt=0)
    bm25_b: float = Field(default=0.75, ge=0, le=1)

    @field_validator(
        "usage_relative_path", "catalog_file_relative_path", "evaluation_usage_relative_path"
    )
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = value.replace("\\", "/").split("/")
        if value.startswith("/") or ".." in parts:
            raise ValueError("must be a path relative to the container, without '..'")
        return value

    def to_wire(self) -> dict[str, Any]:
        """The camelCase dict the API returns as ``parameters``."""
        return self.model_dump(by_alias=True, mode="json")


def parse_training_parameters(data: dict[str, Any]) -> TrainingParameters:
    """Validate a camelCase (or snake_case) dict; :class:`Invalid` names the field."""
    try:
        return TrainingParameters.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "body"
        raise Invalid(f"{loc}: {first['msg']}", field=loc) from None
