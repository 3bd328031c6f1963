"""The metadata store's tables, as typed SQLAlchemy 2 models.

Models and the workers' jobs (training, batch, ...), the server's small key/value settings (the
default model, change stamps) and the hashed API keys. Model artifacts and
input files are files under the data directory, not rows.

Schema changes go through Alembic (``store/migrations``); a change here
needs a new revision there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from recostack.training.status import ModelStatus

__all__ = [
    "ApiKeyRow",
    "Base",
    "JobRow",
    "JobStatus",
    "ModelRow",
    "SettingRow",
    "TrainingJobRow",
    "UTCDateTime",
    "utcnow",
]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON documents: JSONB on PostgreSQL, JSON text elsewhere
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


class ModelRow(Base):
    __tablename__ = "models"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    description: Mapped[str | None] = mapped_column(String(256))
    creation_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16), default=ModelStatus.CREATED)
    status_message: Mapped[str | None] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    statistics: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    #: the project whose auto-deploy deployments the model may be promoted to
    #: (not a foreign key: see migration ``0004_auto_deploy``)
    project_id: Mapped[str | None] = mapped_column(String(128), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class JobRow(Base):
    """One job of the workers, claimed under a lease: a training run, a batch job, ...

    ``kind`` says which (``recostack.jobs.queue.JobKind``); ``subject_id`` is
    what the job works on (the model trained, the batch job scored, the
    campaign deployed). A training job also names its model in ``model_id``,
    a foreign key, so that deleting the model deletes its job. ``payload``
    holds what a job is asked to do beyond its subject (a campaign's action).
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(
        String(32), default="training", server_default="training", index=True
    )
    subject_id: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str | None] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), unique=True
    )
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


#: the name of :class:`JobRow` from before jobs had kinds (training jobs only)
TrainingJobRow = JobRow


class SettingRow(Base):
    """Server-wide values: the default model id and change stamps."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class ApiKeyRow(Base):
    """One API key, stored as an HMAC (keyed by the server secret) of its salted SHA-256
    digest (see ``recostack.serving.keys``)."""

    __tablename__ = "api_keys"

    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot: Mapped[str] = mapped_column(String(16), primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: how ``digest`` was made: ``hmac-sha256``, or ``sha256`` (before migration 0009)
    scheme: Mapped[str] = mapped_column(String(16), server_default="sha256")
    #: which server secret keyed ``digest`` (an id of it, not the secret)
    secret_id: Mapped[str | None] = mapped_column(String(16))
