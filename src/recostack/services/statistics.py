"""A deployment's statistics over time, read from its rollups.

Per interval (a minute, an hour or a day, chosen from the range unless
given): requests (answered and failed), errors (4xx, 5xx), latency
percentiles, responses, take-ups and the take-up rate (take-ups per
answered request), distinct users; and the same over the whole range.
Rows are read for the buckets that start in ``[start, end)`` after the
bucket holding ``start``: a range that cuts a bucket counts it whole.

This process's own answers and counts are flushed first (its prediction
logger counts an answer once it has written it), so a request answered a
moment ago is counted; other API processes flush every
``statistics_flush_seconds``, a second or so after their loggers write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from recostack.errors import Unprocessable
from recostack.serving import Serving
from recostack.serving.statistics import Granularity, Rollup, bucket_of, interval_end
from recostack.store import deployment_repository as repo
from recostack.store.engine import Database
from recostack.store.statistics_repository import read_rollups

__all__ = ["MAX_INTERVALS", "StatisticsOverTime", "choose_interval", "statistics_over_time"]

#: most intervals one answer has
MAX_INTERVALS = 2000
_SECONDS: dict[Granularity, int] = {"minute": 60, "hour": 3600, "day": 86400}


def choose_interval(start: datetime, end: datetime) -> Granularity:
    """Minutes up to 6 hours, hours up to 14 days, days beyond."""
    span = end - start
    if span <= timedelta(hours=6):
        return "minute"
    if span <= timedelta(days=14):
        return "hour"
    return "day"


def _figures(rollup: Rollup, seconds: float) -> dict[str, Any]:
    answered = rollup.requests - rollup.errors_4xx - rollup.errors_5xx
    latency = rollup.latency
    return {
        "requests": rollup.requests,
        "requestsPerSecond": rollup.requests / seconds if seconds > 0 else 0.0,
        "errors": rollup.errors_4xx + rollup.errors_5xx,
        "errors4xx": rollup.errors_4xx,
        "errors5xx": rollup.errors_5xx,
        "errorRate": (rollup.errors_4xx + rollup.errors_5xx) / rollup.requests
        if rollup.requests
        else None,
        "latencyP50Ms": latency.percentile(0.50),
        "latencyP95Ms": latency.percentile(0.95),
        "latencyP99Ms": latency.percentile(0.99),
        "latencyMeanMs": latency.mean(),
        "responses": rollup.responses,
        "takeUps": rollup.take_ups,
        "takeUpRate": rollup.take_ups / answered if answered > 0 else None,
        "distinctUsers": rollup.users.estimate(),
    }


@dataclass(frozen=True)
class StatisticsOverTime:
    deployment_id: str
    version: str | None
    start: datetime
    end: datetime
    interval: Granularity
    buckets: list[Rollup]
    summary: Rollup

    def to_wire(self) -> dict[str, Any]:
        """The reference's series (``dateLabels``, ``requestSeries``, ``latencySeries``,
        ``httpStatusSeries``), then every figure per interval and over the range."""
        seconds = _SECONDS[self.interval]
        intervals = [
            {
                "start": _iso(b.bucket_start),
                "end": _iso(interval_end(b.bucket_start, self.interval)),
                **_figures(b, seconds),
            }
            for b in self.buckets
        ]
        span = (self.end - self.start).total_seconds()
        return {
            "deploymentId": self.deployment_id,
            "version": self.version,
            "startDate": _iso(self.start),
            "endDate": _iso(self.end),
            "interval": self.interval,
            "dateLabels": [i["start"] for i in intervals],
            "requestSeries": [i["requestsPerSecond"] for i in intervals],
            "latencySeries": [i["latencyMeanMs"] for i in intervals],
            "httpStatusSeries": [
                {
                    "2xx": i["requests"] - i["errors"],
                    "4xx": i["errors4xx"],
                    "5xx": i["errors5xx"],
                }
                for i in intervals
            ],
            "intervals": intervals,
            "summary": _figures(self.summary, span),
        }


_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def _utc(value: datetime, field: str) -> datetime:
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not _EARLIEST <= value < _LATEST:
        raise Unprocessable(f"{field} must be between 1970 and 2999", field=field)
    return value


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def statistics_over_time(
    db: Database,
    serving: Serving | None,
    deployment_id: str,
    start: datetime,
    end: datetime,
    interval: Granularity | None = None,
    version: str | None = None,
) -> StatisticsOverTime:
    """The statistics of ``deployment_id`` (every version, or ``version``) from ``start`` to
    ``end``; :class:`Unprocessable` for a range that is empty, outside 1970-2999 or has too
    many intervals."""
    start, end = _utc(start, "startDate"), _utc(end, "endDate")
    if end <= start:
        raise Unprocessable("endDate must be after startDate", field="endDate")
    granularity = interval or choose_interval(start, end)
    first = bucket_of(start, granularity)
    count = int((end - first).total_seconds() // _SECONDS[granularity]) + 1
    if count > MAX_INTERVALS:
        raise Unprocessable(
            f"{count} {granularity} intervals from startDate to endDate; at most "
            f"{MAX_INTERVALS}: choose a longer interval or a shorter range",
            field="interval",
        )
    with db.transaction() as session:
        repo.get_deployment(session, deployment_id, version)
    if serving is not None:
        serving.prediction_logger.flush()
        serving.statistics.flush()
    with db.engine.connect() as connection:
        rows = read_rollups(connection, deployment_id, granularity, first, end, version)
    by_start: dict[datetime, Rollup] = {}
    for row in rows:
        found = by_start.get(row.bucket_start)
        if found is None:
            by_start[row.bucket_start] = row
        else:
            found.merge(row)
    buckets = []
    at = first
    while at < end:
        buckets.append(by_start.get(at) or Rollup(deployment_id, version or "", granularity, at))
        at = interval_end(at, granularity)
    summary = Rollup(deployment_id, version or "", granularity, first)
    for bucket in buckets:
        summary.merge(bucket)
    return StatisticsOverTime(deployment_id, version, start, end, granularity, buckets, summary)
