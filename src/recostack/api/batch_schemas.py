"""Bodies of the batch inference job endpoints, in the managed service's shapes.

``jobInput`` / ``jobOutput`` take the reference's ``{"s3DataSource": {"path"}}``
/ ``{"s3DataDestination": {"path"}}``, or ``{"path"}`` directly; a path is
``<container>/<path>`` in the input files, or an absolute path the server
may use (:mod:`recostack.services.batch_paths`). Recostack's additions:
``deploymentId`` (instead of ``solutionVersionArn``), runtime rules
(``filters``, ``reranking``, ``excludeRatedItems``, ``scenario``,
``skipDefaultScenario``; ``filterArn`` names a saved scenario, in place of
``scenario``). Through a deployment the rules are what a recommend request
to it would set, resolved by the deployment as for that request (its
defaults or overrides, business rules, default scenario). ``engine``
(``local`` or ``spark``), ``inputFormat`` (``json`` lines or ``csv``;
default by the file's extension).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from recostack.api.exploration_schemas import ItemExplorationConfig
from recostack.api.inputs import MAX_RULES, DeploymentName, FilterRule, RerankRule, ScenarioName
from recostack.services.batch_jobs import BatchJobView, output_display, wire_time
from recostack.settings import Settings

__all__ = [
    "BatchInferenceJobCreate",
    "BatchInferenceJobCreated",
    "BatchInferenceJobDescribed",
    "BatchInferenceJobList",
    "describe_job",
    "summary_of",
]

PATH_DESCRIPTION = "<container>/<path> in the input files (s3://<container>/<path> too), or an "
PATH_DESCRIPTION += "absolute path inside the data directory or RECOSTACK_BATCH_PATHS"
JOB_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$"


#: a path, or none (an explicit ``null`` too: the length applies to a path only; on the
#: union itself pydantic applied it to ``None`` and failed with a TypeError, a 500)
_OptionalPath = Annotated[str, Field(min_length=1, max_length=1024)] | SkipJsonSchema[None]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class S3Path(_Body):
    path: str = Field(min_length=1, max_length=1024, description=PATH_DESCRIPTION)
    kmsKeyArn: str | None = Field(default=None, max_length=2048, description="accepted, unused")


class JobInput(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["s3DataSource"]}, {"required": ["path"]}]},
    )
    s3DataSource: S3Path | SkipJsonSchema[None] = None
    path: _OptionalPath = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.s3DataSource is None) == (self.path is None):
            raise ValueError("give s3DataSource.path or path")
        return self

    @property
    def location(self) -> str:
        return self.path if self.s3DataSource is None else self.s3DataSource.path  # type: ignore[return-value]


class JobOutput(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["s3DataDestination"]}, {"required": ["path"]}]},
    )
    s3DataDestination: S3Path | SkipJsonSchema[None] = None
    path: _OptionalPath = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.s3DataDestination is None) == (self.path is None):
            raise ValueError("give s3DataDestination.path or path")
        return self

    @property
    def location(self) -> str:
        return self.path if self.s3DataDestination is None else self.s3DataDestination.path  # type: ignore[return-value]


class BatchInferenceJobConfig(_Body):
    itemExplorationConfig: ItemExplorationConfig | None = None


class BatchInferenceJobCreate(_Body):
    """``create_batch_inference_job``: a model (``solutionVersionArn``) or a deployment."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {"required": ["solutionVersionArn"], "not": {"required": ["deploymentId"]}},
                {"required": ["deploymentId"], "not": {"required": ["solutionVersionArn"]}},
            ],
            # filterArn names a scenario in place of scenario: not both
            "not": {
                "required": ["filterArn", "scenario"],
                "properties": {"filterArn": {"type": "string"}, "scenario": {"type": "string"}},
            },
        },
    )

    jobName: str = Field(pattern=JOB_NAME_PATTERN)
    solutionVersionArn: str | SkipJsonSchema[None] = Field(
        default=None, max_length=64, description="the id of a Completed model"
    )
    deploymentId: DeploymentName | SkipJsonSchema[None] = Field(
        default=None, description="score through this deployment's pipeline instead of a model"
    )
    filterArn: ScenarioName | None = Field(default=None, description="a saved scenario")
    numResults: int = Field(default=25, ge=1, le=500)
    jobInput: JobInput
    jobOutput: JobOutput
    roleArn: str | None = Field(default=None, max_length=2048, description="accepted, unused")
    batchInferenceJobConfig: BatchInferenceJobConfig | None = None
    filters: list[FilterRule] | None = Field(default=None, max_length=MAX_RULES)
    reranking: list[RerankRule] | None = Field(default=None, max_length=MAX_RULES)
    excludeRatedItems: bool | None = None
    scenario: ScenarioName | None = None
    skipDefaultScenario: bool = False
    engine: Literal["local", "spark"] = "local"
    inputFormat: Literal["json", "csv"] | None = None

    @field_validator("scenario")
    @classmethod
    def _one_scenario(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("filterArn") is not None:
            raise ValueError("filterArn names a saved scenario, as scenario does: give one")
        return value

    @model_validator(mode="after")
    def _source(self) -> Self:
        if (self.solutionVersionArn is None) == (self.deploymentId is None):
            raise ValueError("give solutionVersionArn (a model) or deploymentId, not both")
        return self

    def config(self) -> dict[str, Any]:
        exploration = (
            self.batchInferenceJobConfig.itemExplorationConfig
            if self.batchInferenceJobConfig
            else None
        )
        config: dict[str, Any] = {
            "numResults": self.numResults,
            "filterArn": self.filterArn,
            "filters": self.filters or [],
            "reranking": self.reranking or [],
            "excludeRatedItems": self.excludeRatedItems,
            "scenario": self.scenario,
            "skipDefaultScenario": self.skipDefaultScenario,
            "inputFormat": self.inputFormat,
            "itemExplorationConfig": exploration.to_store() if exploration else None,
        }
        return config


class BatchInferenceJobCreated(BaseModel):
    batchInferenceJobArn: str


class BatchInferenceJobDescribed(BaseModel):
    batchInferenceJob: dict[str, Any]


class BatchInferenceJobList(BaseModel):
    batchInferenceJobs: list[dict[str, Any]]
    nextToken: str | None = None


def summary_of(view: BatchJobView) -> dict[str, Any]:
    row = view.row
    return {
        "batchInferenceJobArn": row.id,
        "jobName": row.name,
        "status": row.status,
        "failureReason": row.failure_reason,
        "solutionVersionArn": row.model_id,
        "deploymentId": row.deployment_id,
        "creationDateTime": wire_time(row.created_at),
        "lastUpdatedDateTime": wire_time(row.updated_at),
    }


def describe_job(view: BatchJobView, settings: Settings) -> dict[str, Any]:
    """The reference's ``batchInferenceJob`` object, with Recostack's progress."""
    row = view.row
    config = dict(row.config or {})
    exploration = config.get("itemExplorationConfig")
    return {
        **summary_of(view),
        "filterArn": config.get("filterArn"),
        "numResults": config.get("numResults"),
        "jobInput": {"s3DataSource": {"path": output_display(row.input_path or "", settings)}},
        "jobOutput": {"s3DataDestination": {"path": output_display(row.output_path, settings)}},
        "batchInferenceJobConfig": {"itemExplorationConfig": exploration} if exploration else {},
        "roleArn": None,
        "engine": row.engine,
        "rules": {
            "filters": config.get("filters") or [],
            "reranking": config.get("reranking") or [],
            "excludeRatedItems": config.get("excludeRatedItems"),
            "scenario": config.get("scenario"),
            "skipDefaultScenario": bool(config.get("skipDefaultScenario")),
        },
        "progress": {
            "linesTotal": row.lines_total,
            "linesDone": row.lines_done,
            "linesFailed": row.lines_failed,
            "chunksDone": row.chunks_done,
            "resumed": row.resumed,
            "linesPerSecond": view.rate,
            "etaSeconds": view.eta_seconds,
        },
    }
