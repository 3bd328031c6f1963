"""Statistics rollups: merge the deltas of any number of processes, read a range back.

:func:`merge_rollups` adds a batch of :class:`~recostack.serving.statistics.Rollup`
deltas into ``deployment_statistics`` in one transaction: each row is
created if missing (``INSERT ... ON CONFLICT DO NOTHING``), read under a
row lock (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction holds
the database) and written back with the delta added. Rows are visited in
key order, so two processes merging at once never deadlock.

:func:`read_rollups` reads the rows of one deployment, one granularity and
a range of buckets (the primary key's prefix: an index range scan).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, Table, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from recostack.serving.stat_sketches import LatencyHistogram, UserSketch
from recostack.serving.statistics import Granularity, Rollup
from recostack.store.statistics_tables import DeploymentStatisticsRow

__all__ = ["delete_statistics", "merge_rollups", "read_rollups"]

_T: Table = DeploymentStatisticsRow.__table__  # type: ignore[assignment]
_COLUMNS = (
    _T.c.requests,
    _T.c.errors_4xx,
    _T.c.errors_5xx,
    _T.c.latency_histogram,
    _T.c.latency_total_ms,
    _T.c.users_sketch,
    _T.c.responses,
    _T.c.take_ups,
)


def _empty_row(delta: Rollup) -> dict[str, object]:
    return {
        "deployment_id": delta.deployment_id,
        "version": delta.version,
        "granularity": delta.granularity,
        "bucket_start": delta.bucket_start,
        "requests": 0,
        "errors_4xx": 0,
        "errors_5xx": 0,
        "latency_histogram": None,
        "latency_total_ms": 0.0,
        "users_sketch": None,
        "responses": 0,
        "take_ups": 0,
    }


def _key(row: Rollup) -> tuple[str, str, datetime, str]:
    return (row.deployment_id, row.granularity, row.bucket_start, row.version)


def _where(delta: Rollup) -> ColumnElement[bool]:
    return and_(
        _T.c.deployment_id == delta.deployment_id,
        _T.c.granularity == delta.granularity,
        _T.c.bucket_start == delta.bucket_start,
        _T.c.version == delta.version,
    )


def merge_rollups(engine: Engine, deltas: Sequence[Rollup]) -> None:
    """Add ``deltas`` into their rows (one transaction)."""
    if not deltas:
        return
    ordered = sorted(deltas, key=_key)
    with engine.begin() as connection:
        dialect = connection.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        connection.execute(
            insert(_T).on_conflict_do_nothing(),
            [_empty_row(d) for d in ordered],
        )
        for delta in ordered:
            query = select(*_COLUMNS).where(_where(delta))
            if dialect == "postgresql":
                query = query.with_for_update()
            stored = connection.execute(query).one()
            latency = LatencyHistogram.decode(stored.latency_histogram, stored.latency_total_ms)
            latency.merge(delta.latency)
            users = UserSketch.decode(stored.users_sketch)
            users.merge(delta.users)
            connection.execute(
                update(_T)
                .where(_where(delta))
                .values(
                    requests=stored.requests + delta.requests,
                    errors_4xx=stored.errors_4xx + delta.errors_4xx,
                    errors_5xx=stored.errors_5xx + delta.errors_5xx,
                    latency_histogram=latency.encode(),
                    latency_total_ms=latency.total_ms,
                    users_sketch=users.encode(),
                    responses=stored.responses + delta.responses,
                    take_ups=stored.take_ups + delta.take_ups,
                )
            )


def read_rollups(
    connection: Connection,
    deployment_id: str,
    granularity: Granularity,
    start: datetime,
    end: datetime,
    version: str | None = None,
) -> list[Rollup]:
    """The rows of buckets starting in ``[start, end)``, oldest first."""
    query = (
        select(_T)
        .where(
            _T.c.deployment_id == deployment_id,
            _T.c.granularity == granularity,
            _T.c.bucket_start >= start,
            _T.c.bucket_start < end,
        )
        .order_by(_T.c.bucket_start)
    )
    if version is not None:
        query = query.where(_T.c.version == version)
    return [
        Rollup(
            row.deployment_id,
            row.version,
            row.granularity,
            row.bucket_start,
            row.requests,
            row.errors_4xx,
            row.errors_5xx,
            LatencyHistogram.decode(row.latency_histogram, row.latency_total_ms),
            UserSketch.decode(row.users_sketch),
            row.responses,
            row.take_ups,
        )
        for row in connection.execute(query)
    ]


def delete_statistics(connection: Connection, deployment_id: str) -> None:
    connection.execute(delete(_T).where(_T.c.deployment_id == deployment_id))
