"""Many rows in few statements: ``INSERT ... VALUES (...), (...), ...`` by the driver.

The writer threads (the prediction logger's, the online learner's) write
while the event loop's thread serves requests. A driver-level
``executemany`` steps the statement once per row, and each step lets go of
the GIL and must win it back from the busy request thread (up to the
interpreter's 5 ms switch interval). Measured here (one-off, SQLite): 500
rows took 6.5 ms beside an idle thread and 230 ms beside a thread spinning
in Python, and under online load the learner wrote a few dozen answers a
second while the server gave 2,500 (``bench/README.md``, "bandit.py"). One
statement per chunk of rows steps once: the same 500 rows, beside the
spinning thread, in 85 ms.

Chunks hold as many rows as the driver's limit on parameters allows
(SQLite's ``SQLITE_LIMIT_VARIABLE_NUMBER``, 32,766 on current builds;
PostgreSQL's 65,535).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Connection

__all__ = ["insert_rows", "parameter_mark"]

#: parameters per statement on PostgreSQL (the protocol's 16-bit count)
_POSTGRES_PARAMETERS = 65_535


def parameter_mark(connection: Connection) -> str:
    """The driver's placeholder: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if connection.dialect.name == "sqlite" else "%s"


def _parameter_limit(connection: Connection) -> int:
    if connection.dialect.name == "sqlite":
        dbapi = connection.connection.dbapi_connection
        return int(dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))  # type: ignore[union-attr]
    return _POSTGRES_PARAMETERS


def insert_rows(
    connection: Connection,
    head: str,
    row: str,
    rows: Sequence[Sequence[Any]],
    tail: str = "",
) -> None:
    """``{head} VALUES {row}, {row}, ... {tail}`` for every row, in as few statements as the
    driver allows. ``row`` is one row's placeholders, e.g. ``(?, ?, ?)``; every row has as
    many values as it has placeholders."""
    if not rows:
        return
    per_row = len(rows[0])
    size = max(1, _parameter_limit(connection) // per_row)
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        values = ", ".join([row] * len(chunk))
        connection.exec_driver_sql(
            f"{head} VALUES {values} {tail}", tuple(chain.from_iterable(chunk))
        )
