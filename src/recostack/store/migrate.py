"""Run the store's Alembic migrations from code (``recostack db upgrade``)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, text

__all__ = [
    "MIGRATIONS_DIR",
    "current_revision",
    "downgrade",
    "head_revision",
    "table_metadata",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def table_metadata() -> MetaData:
    """Every table of the store: the ``Base`` metadata once each ``*tables`` module is imported."""
    import recostack.store

    for module in pkgutil.iter_modules(recostack.store.__path__):
        if module.name.endswith("tables"):
            importlib.import_module(f"recostack.store.{module.name}")
    from recostack.store.tables import Base

    return Base.metadata


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


#: PostgreSQL advisory lock taken while migrating, so that servers starting
#: together migrate one after the other (on SQLite, the write lock of the one
#: transaction the upgrade runs in: see ``migrations/env.py``)
_MIGRATION_LOCK = 0x7265636F  # "reco"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema of ``engine``'s database up to ``revision``."""
    config = _config()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def downgrade(engine: Engine, revision: str) -> None:
    config = _config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None``: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
