"""``GET /api/deployments/{deployment_id}/statistics``: a deployment's statistics over time.

The reference's ``get_statistics_over_time(start_date, end_date)``: per
interval requests, errors, latency percentiles, take-ups and distinct users
(:mod:`recostack.services.statistics`), read from rollups, never from a
scan of the logs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from recostack.api.deps import AdminKey
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import DeploymentName, VersionName
from recostack.services.statistics import statistics_over_time

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["operations"], responses=ERROR_RESPONSES)

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}")


class _Public(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class StatisticsFigures(_Public):
    """What a deployment did in an interval (or over the whole range)."""

    requests: int = Field(description="answered and failed recommend requests")
    requests_per_second: float
    errors: int = Field(description="failed requests (4xx and 5xx)")
    errors_4xx: int = Field(alias="errors4xx")
    errors_5xx: int = Field(alias="errors5xx")
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    latency_mean_ms: float | None
    responses: int
    take_ups: int
    take_up_rate: float | None = Field(description="take-ups per answered request")
    distinct_users: int = Field(description="estimated (HyperLogLog, about 3 %)")


class StatisticsInterval(StatisticsFigures):
    start: str
    end: str


class DeploymentStatisticsPublic(_Public):
    """The reference's DeploymentStatistics series, then every figure per interval."""

    deployment_id: str
    version: str | None
    start_date: str
    end_date: str
    interval: str
    date_labels: list[str]
    request_series: list[float] = Field(description="requests per second, per interval")
    latency_series: list[float | None] = Field(description="mean latency (ms), per interval")
    http_status_series: list[dict[str, int]] = Field(
        description="requests by status class (2xx, 4xx, 5xx), per interval"
    )
    intervals: list[StatisticsInterval]
    summary: StatisticsFigures


class StatisticsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    startDate: datetime | None = Field(
        None, description="ISO 8601 (UTC when no offset); default: 24 hours before endDate"
    )
    endDate: datetime | None = Field(None, description="ISO 8601; default: now")
    interval: Literal["minute", "hour", "day"] | None = Field(
        None, description="default: minutes up to 6 hours, hours up to 14 days, days beyond"
    )
    version: VersionName | None = Field(None, description="one version (default: all)")

    @field_validator("startDate", "endDate", mode="before")
    @classmethod
    def _date_time(cls, value: Any) -> Any:
        """An ISO 8601 date-time only (pydantic would read a number as a Unix time)."""
        if value is not None and not (isinstance(value, str) and _DATE_TIME.match(value)):
            raise ValueError("an ISO 8601 date-time, e.g. 2026-01-01T00:00:00Z")
        return value


@router.get(
    "/deployments/{deployment_id}/statistics",
    summary="Statistics over time: requests, errors, latency percentiles, take-ups, users",
    response_model=DeploymentStatisticsPublic,
    responses=error_responses(
        e404="no such deployment or version",
        e422="endDate is not after startDate, a date is outside 1970-2999, "
        "or the range has more than 2000 intervals",
    ),
)
def get_statistics_over_time(
    deployment_id: Annotated[DeploymentName, Path(description="the deployment's name")],
    query: Annotated[StatisticsQuery, Query()],
    request: Request,
    _: AdminKey,
) -> Any:
    end = query.endDate or datetime.now(UTC)
    start = query.startDate or end - timedelta(hours=24)
    found = statistics_over_time(
        request.app.state.db,
        request.app.state.serving,
        deployment_id,
        start,
        end,
        query.interval,
        query.version,
    )
    return found.to_wire()
