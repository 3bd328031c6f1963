"""The metadata store (SQLite or PostgreSQL through SQLAlchemy 2) and files on disk.

Rows: models, training jobs, server settings, hashed API keys
(:mod:`~recostack.store.tables`); repositories are functions taking a
``Session``. Files: input files per container (:mod:`~recostack.store.files`)
and model artifacts (:mod:`~recostack.store.artifacts`). Schema changes are
Alembic migrations shipped in ``store/migrations`` and run by
:func:`~recostack.store.migrate.upgrade`.
"""

from recostack.store.engine import Database, is_sqlite, make_engine
from recostack.store.migrate import upgrade
from recostack.store.tables import JobStatus

__all__ = [
    "Database",
    "JobStatus",
    "is_sqlite",
    "make_engine",
    "upgrade",
]
