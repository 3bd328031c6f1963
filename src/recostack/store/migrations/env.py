"""Alembic environment of the Recostack store.

Run through :func:`recostack.store.migrate.upgrade`, which hands over an
open connection in ``config.attributes["connection"]``; the ``alembic``
command line works too, given ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from recostack.store.engine import make_engine
from recostack.store.migrate import table_metadata

config = context.config
target_metadata = table_metadata()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        # SQLite's DDL is transactional (the engine issues BEGIN itself, not the driver):
        # one transaction for the whole upgrade holds the write lock from reading the
        # version to the last step, so servers starting together migrate one after the
        # other. Alembic's default for SQLite commits after each step, and a second
        # server that read the old version in between ran a step twice.
        transactional_ddl=True if sqlite else None,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection or set sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
