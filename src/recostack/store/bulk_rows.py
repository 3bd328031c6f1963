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

Chunks hold at most ``MAX_ROWS`` rows, and fewer where the driver's limit on
parameters says so (SQLite's ``SQLITE_LIMIT_VARIABLE_NUMBER``, 32,766 on
current builds; PostgreSQL's 65,535). Past a few hundred rows a statement
gets dearer per row on SQLite: measured here (one-off, the online learner's
writes of 1,000 answers, 5 shown offers each, on a file whose every arm
exists), the arms' upsert took 60-100 µs per answer in chunks of 4,095 rows
(the parameter limit's) and 5-13 µs in chunks of 500 to 1,000; the learner's
whole write went from 120-185 µs per answer to 70-100 µs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Connection

__all__ = ["MAX_ROWS", "insert_rows", "parameter_mark"]

#: rows per statement at most (see the module's docstring)
MAX_ROWS = 500

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
    size = max(1, min(MAX_ROWS, _parameter_limit(connection) // per_row))
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        values = ", ".join([row] * len(chunk))
        connection.exec_driver_sql(
            f"{head} VALUES {values} {tail}", tuple(chain.from_iterable(chunk))
        )
