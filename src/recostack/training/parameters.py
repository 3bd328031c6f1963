"""Model training parameters, with the reference's names, defaults and ranges.

On the wire the names are camelCase exactly as the reference spells them;
in Python they are snake_case. Recostack adds ``algorithm`` (``sar`` by
default, ``itemknn``, ``ease`` or ``popularity``), a few knobs of its own,
each marked below, and ``hyperparameterSearch``: train the best of a search
over algorithms and their parameters instead of the parameters given
(:mod:`recostack.training.tuning`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from recostack.errors import Invalid

__all__ = [
    "Algorithm",
    "CooccurrenceUnit",
    "HyperparameterSearch",
    "SimilarityFunction",
    "TrainingParameters",
    "parse_training_parameters",
]


class Algorithm(StrEnum):
    SAR = "sar"
    ITEMKNN = "itemknn"
    EASE = "ease"
    POPULARITY = "popularity"


class CooccurrenceUnit(StrEnum):
    USER = "User"
    TIMESTAMP = "Timestamp"


class SimilarityFunction(StrEnum):
    COOCCURRENCE = "Cooccurrence"
    LIFT = "Lift"
    JACCARD = "Jaccard"


#: ``name@k``: the metric a search maximises on its validation split
METRIC_PATTERN = re.compile(r"^(ndcg|precision|recall|map)@([1-9][0-9]?|100)$")
#: ``metric`` as a request may spell it: any case, spaces or tabs around (kept stripped,
#: in lower case)
METRIC_SPELLING = (
    r"^[ \t]*(?:[nN][dD][cC][gG]|[pP][rR][eE][cC][iI][sS][iI][oO][nN]|[rR][eE][cC][aA][lL][lL]"
    r"|[mM][aA][pP])@(?:[1-9][0-9]?|100)[ \t]*$"
)


class HyperparameterSearch(BaseModel):
    """A Recostack extension: search algorithms and parameters, train the best.

    Trials run in the training worker on a validation split carved from
    the training usage (``validation``: the latest events of each user,
    ``chronological``, or a random share, ``stratified``); each trial fits
    one candidate on the first ``validationRatio`` of each user's events and
    scores ``metric`` on the rest. The search stops after ``trials`` trials
    or ``timeBudgetSeconds``, whichever comes first; the best candidate is
    then trained on all the training usage. A trial that fails is recorded
    and the search goes on.
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    algorithms: list[Algorithm] = Field(
        default_factory=lambda: [Algorithm.SAR, Algorithm.ITEMKNN, Algorithm.EASE],
        min_length=1,
        max_length=4,
    )
    metric: str = Field(default="ndcg@10", pattern=METRIC_SPELLING)
    trials: int = Field(default=30, ge=1, le=1000)
    time_budget_seconds: float = Field(default=1800.0, gt=0, le=7 * 86_400)
    validation: Literal["chronological", "stratified"] = "chronological"
    validation_ratio: float = Field(default=0.8, gt=0, lt=1)
    seed: int = Field(default=42, ge=0, le=2**32 - 1)

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("algorithms")
    @classmethod
    def _distinct(cls, value: list[Algorithm]) -> list[Algorithm]:
        return list(dict.fromkeys(value))


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
    #: ItemKNN only: neighbours per item, BM25 constants, and whether a user's
    #: summed event weights on an item are its term frequency (else 1 per pair).
    knn_neighbors: int = Field(default=100, ge=1, le=10_000)
    bm25_k1: float = Field(default=1.2, gt=0)
    bm25_b: float = Field(default=0.75, ge=0, le=1)
    knn_weighted: bool = True
    #: EASE only: λ (the L2 penalty), interactions as summed event weights
    #: instead of 0/1, and the most popular items modelled (the rest are
    #: backfilled): the dense matrix takes easeMaxItems² × 8 bytes.
    ease_lambda: float = Field(default=400.0, gt=0, le=1e8)
    ease_weighted: bool = False
    ease_max_items: int = Field(default=20_000, ge=1, le=200_000)
    #: train the best of a search instead of these parameters (see HyperparameterSearch)
    hyperparameter_search: HyperparameterSearch | None = None
    #: where SAR's co-occurrences and affinities are computed: this process (``local``)
    #: or Apache Spark (``spark``: the server's RECOSTACK_SPARK_MASTER), same artifacts
    engine: Literal["local", "spark"] = "local"

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
