"""The Alembic migrations, on an empty SQLite file and an empty PostgreSQL schema."""

from __future__ import annotations

import multiprocessing

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from recostack.store.engine import Database
from recostack.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    table_metadata,
    upgrade,
)
from recostack.store.serving_source import serving_sources

#: the tables of the model API (other features add theirs)
TABLES = {"models", "jobs", "settings", "api_keys", "alembic_version"}


def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        assert current_revision(db.engine) is None
        assert set(inspect(db.engine).get_table_names()) == set()
        upgrade(db.engine)
        assert current_revision(db.engine) == head_revision()
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        assert (
            serving_sources(db.engine).stamps().items()
            >= {
                "default_model_id": None,
                "models_generation": "0",
                "keys_generation": "0",
            }.items()
        )
        upgrade(db.engine)  # idempotent
        assert current_revision(db.engine) == head_revision()
    finally:
        db.dispose()


def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        upgrade(db.engine)
        downgrade(db.engine, "base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        upgrade(db.engine)
        assert set(inspect(db.engine).get_table_names()) >= TABLES
    finally:
        db.dispose()


def test_migrations_match_the_table_models(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        upgrade(db.engine)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, table_metadata()) == []
    finally:
        db.dispose()


def _upgrade_in_a_process(url: str) -> None:
    db = Database.open(url)
    try:
        upgrade(db.engine)
    finally:
        db.dispose()


def test_servers_starting_together_migrate_one_after_the_other(database_url: str) -> None:
    # Processes, not threads: Alembic's migration context is process-global.
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_upgrade_in_a_process, args=(database_url,)) for _ in range(5)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    db = Database.open(database_url)
    try:
        assert current_revision(db.engine) == head_revision()
    finally:
        db.dispose()
