"""Prediction logs and response logs: batched inserts, keyset pages, retention.

Pages run newest first by (created_at, request_id); the next page starts
after the last record of the previous one (``last_log_timestamp`` and
``last_log_request_id``), so paging stays correct while records are added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, Table, and_, delete, func, insert, or_, select

from recostack.serving.prediction_logger import PredictionRecord
from recostack.store.bulk_rows import insert_rows
from recostack.store.deployment_tables import PredictionLogRow, ResponseLogRow

__all__ = [
    "LogKind",
    "LoggedAnswer",
    "ab_test_outcomes",
    "count_predictions",
    "insert_predictions",
    "insert_response",
    "list_log",
    "logged_answer",
    "purge_logs",
]

LogKind = Literal["predictions", "responses"]

_P: Table = PredictionLogRow.__table__  # type: ignore[assignment]
_R: Table = ResponseLogRow.__table__  # type: ignore[assignment]


def insert_predictions(connection: Connection, records: Sequence[PredictionRecord]) -> None:
    """One batch of records, many to a statement (the caller commits).

    Measured (``bench/deployment.py``): bound through SQLAlchemy's per-row
    processing, a batch of a few thousand records held the GIL for tens of
    milliseconds, the request path's tail; stepped once per row (a driver's
    ``executemany``), the writer waits on the GIL at every row while requests
    are served (:mod:`recostack.store.bulk_rows`). A record is a flat tuple
    already (its documents JSON text); only its time is put in the form the
    column stores (on SQLite naive UTC text, as SQLAlchemy's DATETIME writes it).
    """
    if not records:
        return
    columns = ", ".join(PredictionRecord._fields).replace("_json", "")
    rows: Sequence[tuple[Any, ...]]
    # a record already stored is skipped: the logger writes a batch again when the database
    # did not answer its commit (committed or not), and each answer is kept once
    if connection.dialect.name == "sqlite":
        row = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
        rows = [(*r[:7], _sqlite_time(r.created_at), r.latency_ms) for r in records]
        head, tail = f"INSERT OR IGNORE INTO prediction_logs ({columns})", ""
    else:
        row = "(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s)"
        rows = records
        head, tail = (
            f"INSERT INTO prediction_logs ({columns})",
            "ON CONFLICT (request_id) DO NOTHING",
        )
    insert_rows(connection, head, row, rows, tail)


def _sqlite_time(value: datetime) -> str:
    """A UTC time as SQLAlchemy's SQLite DATETIME stores it (and reads it back)."""
    # what strftime("%Y-%m-%d %H:%M:%S.%f") gives, at a fraction of its cost (once per
    # record, on the logger's thread, holding the GIL)
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def insert_response(connection: Connection, record: Mapping[str, Any]) -> None:
    connection.execute(insert(_R), [dict(record)])


class LoggedAnswer(NamedTuple):
    """An answer as the prediction log holds it."""

    version: str
    #: whether online learning chose it (its context holds ``onlineLearning``)
    online: bool
    created_at: datetime


def logged_answer(
    connection: Connection, deployment_id: str, request_id: str
) -> LoggedAnswer | None:
    """The answer ``request_id`` of the deployment; ``None``: not stored."""
    row = connection.execute(
        select(_P.c.version, _P.c.context, _P.c.created_at).where(
            _P.c.request_id == request_id, _P.c.deployment_id == deployment_id
        )
    ).first()
    if row is None:
        return None
    online = isinstance(row.context, dict) and "onlineLearning" in row.context
    return LoggedAnswer(str(row.version), online, row.created_at)


def _page(
    table: Any,
    id_column: str,
    deployment_id: str,
    limit: int,
    last_id: str | None,
    last_time: datetime | None,
) -> Any:
    key = table.c[id_column]
    query = select(table).where(table.c.deployment_id == deployment_id)
    if last_time is not None:
        after = table.c.created_at < last_time
        if last_id:
            after = or_(after, and_(table.c.created_at == last_time, key < last_id))
        query = query.where(after)
    elif last_id:
        # only an id: start after that record, wherever it is
        anchor = select(table.c.created_at).where(key == last_id).scalar_subquery()
        query = query.where(
            or_(table.c.created_at < anchor, and_(table.c.created_at == anchor, key < last_id))
        )
    return query.order_by(table.c.created_at.desc(), key.desc()).limit(limit)


#: a log, and the id column of its records (what a page's cursor names)
_LOGS: dict[str, tuple[Table, str]] = {
    "predictions": (_P, "request_id"),
    "responses": (_R, "response_id"),
}


def list_log(
    connection: Connection,
    log: LogKind,
    deployment_id: str,
    *,
    limit: int = 10,
    last_id: str | None = None,
    last_time: datetime | None = None,
) -> list[dict[str, Any]]:
    """A page of a deployment's ``predictions`` or ``responses``, newest first, after the
    record (``last_time``, ``last_id``: its request id, or response id) that ended the
    previous page."""
    table, id_column = _LOGS[log]
    query = _page(table, id_column, deployment_id, limit, last_id, last_time)
    return [dict(row._mapping) for row in connection.execute(query)]


def count_predictions(connection: Connection, deployment_id: str | None = None) -> int:
    query = select(func.count()).select_from(_P)
    if deployment_id is not None:
        query = query.where(_P.c.deployment_id == deployment_id)
    return int(connection.scalar(query) or 0)


def purge_logs(connection: Connection, deployment_id: str, before: datetime, limit: int) -> int:
    """Delete at most ``limit`` of the deployment's predictions older than ``before``, and as
    many of its responses (found through the (deployment, time) indexes); how many went."""
    removed = 0
    for table, key in ((_R, _R.c.response_id), (_P, _P.c.request_id)):
        old = (
            select(key)
            .where(table.c.deployment_id == deployment_id, table.c.created_at < before)
            .limit(limit)
        )
        result = connection.execute(delete(table).where(key.in_(old)))
        removed += int(result.rowcount)
    return removed


def ab_test_outcomes(connection: Connection, since: datetime) -> list[tuple[str, str, int, int]]:
    """(A/B test id, group, answers, answers taken up) of the answers logged since ``since``
    whose scenario put the user in an A/B test (its ``context.abTest``)."""
    test = _P.c.context[("abTest", "id")].as_string()
    group = _P.c.context[("abTest", "group")].as_string()
    taken = (
        select(_R.c.request_id)
        .where(_R.c.take_up.is_(True), _R.c.created_at >= since)
        .distinct()
        .subquery()
    )
    rows = connection.execute(
        select(test, group, func.count(), func.count(taken.c.request_id))
        .select_from(_P.outerjoin(taken, taken.c.request_id == _P.c.request_id))
        .where(_P.c.created_at >= since, test.is_not(None))
        .group_by(test, group)
        .order_by(test, group)
    )
    return [(t, g, int(n), int(k)) for t, g, n, k in rows]
