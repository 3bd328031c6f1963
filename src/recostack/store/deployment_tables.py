"""Tables of projects, deployments, customers, prediction logs and response logs.

They share :class:`~recostack.store.tables.Base` with the core tables, so
one metadata describes the whole store (migration ``0003_deployments``).

- ``projects``: a grouping of deployments with the reference's metadata.
- ``deployments``: one row per (deployment_id, version) pair, which is
  immutable; the row carries the lifecycle status, the served model, the
  history of model versions served, every setting as one JSON document and
  the last auto-deploy decision (migration ``0004_auto_deploy``).
- ``customers``: customer records by collection (the lookup a deployment's
  ``parameter_access`` names), each record a JSON document of fields.
- ``prediction_logs`` / ``response_logs``: every answer served and every
  response to one, newest first by (created_at, request_id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from recostack.serving.deployments.records import DeploymentStatus, Environment
from recostack.store.tables import Base, JSONDocument, UTCDateTime, utcnow

__all__ = [
    "CustomerRow",
    "DeploymentRow",
    "PredictionLogRow",
    "ProjectRow",
    "ResponseLogRow",
]


class ProjectRow(Base):
    __tablename__ = "projects"

    project_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    project_type: Mapped[str | None] = mapped_column(String(128))
    purpose: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[str | None] = mapped_column(String(32))
    end_date: Mapped[str | None] = mapped_column(String(32))
    data_science_lead: Mapped[str | None] = mapped_column(String(256))
    data_lead: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeploymentRow(Base):
    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("deployment_id", "version", name="uq_deployment_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    environment: Mapped[str] = mapped_column(String(16), default=Environment.EXPERIMENT)
    status: Mapped[str] = mapped_column(String(16), default=DeploymentStatus.PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    #: the models served: the first is the primary one, the others are chosen
    #: by the model selector
    model_ids: Mapped[list[str]] = mapped_column(JSONDocument)
    #: the model version the deployment is switching to
    pending_model_version: Mapped[str | None] = mapped_column(String(36))
    #: every model version served, oldest first:
    #: [{"modelVersion", "promotedAt", "rolledBackAt", "source" (auto-deploys only)}]
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    auto_deploy: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_metrics_check: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the last auto-deploy decision: {"modelVersion", "decision", "reason", "at"}
    last_auto_deploy: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deployed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CustomerRow(Base):
    __tablename__ = "customers"

    collection: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PredictionLogRow(Base):
    __tablename__ = "prediction_logs"
    __table_args__ = (
        Index("ix_prediction_logs_deployment_time", "deployment_id", "created_at", "request_id"),
    )

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    model_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str | None] = mapped_column(String(255))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    context: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latency_ms: Mapped[float] = mapped_column(Float)


class ResponseLogRow(Base):
    __tablename__ = "response_logs"
    __table_args__ = (
        Index("ix_response_logs_deployment_time", "deployment_id", "created_at", "response_id"),
    )

    response_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(36), index=True)
    deployment_id: Mapped[str] = mapped_column(String(128))
    item_id: Mapped[str | None] = mapped_column(String(450))
    event: Mapped[str | None] = mapped_column(String(64))
    reward: Mapped[float | None] = mapped_column(Float)
    take_up: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
