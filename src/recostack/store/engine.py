"""Engines and sessions for the two supported databases.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and
every writing transaction starts with ``BEGIN IMMEDIATE`` so that two
processes never deadlock upgrading a read lock, the threads of one process
taking turns first (:mod:`recostack.store.sqlite_writes`); a connection with
the ``readonly`` execution option starts a plain deferred ``BEGIN`` instead.
PostgreSQL is reached through psycopg 3 (``postgresql+psycopg://...``) and
fails fast when the server is away: a connect timeout, TCP keepalives, a
pre-ping of every pooled connection (a restart's cut connections are
replaced, not handed out), a pool timeout, and for the API processes a
statement timeout (``Settings.database_statement_timeout_seconds``).
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from recostack.store.sqlite_writes import WriterTurns, turn_taking_connection

__all__ = ["Database", "is_sqlite", "json_text", "make_engine", "make_session_factory"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: seconds a new PostgreSQL connection may take (libpq's connect_timeout)
CONNECT_TIMEOUT_SECONDS = 5.0
#: seconds a request waits for a pooled connection before it is told the store is busy
POOL_TIMEOUT_SECONDS = 10.0


def json_text(value: Any) -> str:
    """A JSON document as the store writes one (orjson; the standard library past it)."""
    try:
        return orjson.dumps(
            value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
        ).decode()
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the standard library's turn
        return json.dumps(value)


def make_engine(
    url: str,
    *,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    statement_timeout: float = 0.0,
    **kwargs: Any,
) -> Engine:
    """An engine for ``url``, tuned for its backend.

    On PostgreSQL, ``connect_timeout`` bounds opening a connection and
    ``statement_timeout`` (seconds, 0: none) every statement of its sessions.

    JSON columns are written through orjson (several times faster than the
    standard library, which matters for the prediction log: two documents a
    row) and read through the standard library (exact for any integer).
    """
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", json_text)
    kwargs.setdefault("json_deserializer", json.loads)  # exact for integers beyond 64 bits
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        turns = WriterTurns(SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(
            parsed,
            connect_args={
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                "check_same_thread": False,
                "factory": turn_taking_connection(turns),
            },
            **kwargs,
        )
        _tune_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT_SECONDS)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("connect_timeout", max(1, round(connect_timeout)))
        # a server gone without closing the connection (a cut network) is noticed in seconds
        connect_args.setdefault("keepalives", 1)
        connect_args.setdefault("keepalives_idle", 10)
        connect_args.setdefault("keepalives_interval", 2)
        connect_args.setdefault("keepalives_count", 3)
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        if statement_timeout > 0:
            _statement_timeout(engine, statement_timeout)
        return engine
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def _statement_timeout(engine: Engine, seconds: float) -> None:
    milliseconds = max(1, round(seconds * 1000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a SET outside a transaction: it stays
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {milliseconds}")
        dbapi_connection.autocommit = autocommit


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("readonly", False):
            connection.exec_driver_sql("BEGIN")
        else:  # in this process's turn (recostack.store.sqlite_writes)
            connection.connection.dbapi_connection.begin_write()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@dataclass(frozen=True)
class Database:
    """An engine and its session factory.

    ``with db.transaction() as session:`` commits on success and rolls back
    on an exception.
    """

    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> Database:
        engine = make_engine(url, **kwargs)
        return cls(engine=engine, sessions=make_session_factory(engine))

    def transaction(self) -> AbstractContextManager[Session]:
        return self.sessions.begin()

    def dispose(self) -> None:
        self.engine.dispose()
