"""Tables of batch inference jobs, batch predictions and campaigns (migration ``0007_batch``).

- ``batch_jobs``: one scoring of an input file into an output file, with the
  model or deployment it uses, its status (PENDING, IN PROGRESS, ACTIVE,
  CREATE FAILED) and its progress: the input and output byte offsets and
  line counts up to the last finished chunk, committed together, which is
  what a resumed job starts from.
- ``batch_predictions``: a deployment's batch prediction description (the
  reference's ``create_batch_prediction``); each run is a ``batch_jobs`` row,
  and a ``refresh_schedule`` (cron) runs it again at ``next_run_at``.
- ``campaigns``: the managed service's campaign, an adapter over a
  deployment it creates, with the throughput measured when it was deployed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from recostack.store.tables import Base, JSONDocument, UTCDateTime, utcnow

__all__ = [
    "BatchJobRow",
    "BatchJobStatus",
    "BatchPredictionRow",
    "CampaignRow",
    "CampaignStatus",
]


class BatchJobStatus(StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN PROGRESS"
    ACTIVE = "ACTIVE"
    CREATE_FAILED = "CREATE FAILED"


class CampaignStatus(StrEnum):
    CREATE_PENDING = "CREATE PENDING"
    CREATE_IN_PROGRESS = "CREATE IN_PROGRESS"
    ACTIVE = "ACTIVE"
    CREATE_FAILED = "CREATE FAILED"
    DELETE_PENDING = "DELETE PENDING"
    DELETE_IN_PROGRESS = "DELETE IN_PROGRESS"


class BatchPredictionRow(Base):
    __tablename__ = "batch_predictions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(256))
    #: every argument of create_batch_prediction, snake_case
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    refresh_schedule: Mapped[str | None] = mapped_column(String(128))
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BatchJobRow(Base):
    __tablename__ = "batch_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), index=True)
    #: "inference" (create_batch_inference_job) or "prediction" (a batch prediction's run)
    kind: Mapped[str] = mapped_column(String(16))
    model_id: Mapped[str | None] = mapped_column(String(36))
    deployment_id: Mapped[str | None] = mapped_column(String(128))
    batch_prediction_id: Mapped[str | None] = mapped_column(
        ForeignKey("batch_predictions.id", ondelete="CASCADE"), index=True
    )
    engine: Mapped[str] = mapped_column(String(16), default="local")
    #: the job's request: rules, numResults, exploration, formats (camelCase, as given)
    config: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    input_path: Mapped[str | None] = mapped_column(Text)
    output_path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=BatchJobStatus.PENDING, index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    lines_total: Mapped[int | None] = mapped_column(BigInteger)
    lines_done: Mapped[int] = mapped_column(BigInteger, default=0)
    lines_failed: Mapped[int] = mapped_column(BigInteger, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    input_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    output_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    #: times the job was taken up again after its worker stopped mid-way
    resumed: Mapped[int] = mapped_column(Integer, default=0)
    #: lines done when the current run (first or resumed) started, for the rate
    run_started_lines: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignRow(Base):
    __tablename__ = "campaigns"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(36))
    min_provisioned_tps: Mapped[int] = mapped_column(Integer)
    campaign_config: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(24))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    #: the deployment the campaign serves through
    deployment_id: Mapped[str] = mapped_column(String(128))
    #: requests per second the deployment sustained in the warm-up burst
    measured_tps: Mapped[float | None] = mapped_column(Float)
    #: the latest update: {solutionVersionArn, minProvisionedTPS, campaignConfig, status,
    #: failureReason, creationDateTime, lastUpdatedDateTime}
    latest_update: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
