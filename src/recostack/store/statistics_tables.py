"""Statistics rollups of deployments, next to their prediction logs (migration ``0006_operations``).

``deployment_statistics`` holds one row per deployment version and bucket
(a minute, an hour, a day): requests, errors by class, a latency histogram,
a distinct-user sketch, responses and take-ups. Every API process merges
its deltas into these rows (``recostack.store.statistics_repository``); a
statistics query reads a few hundred of them, never the raw logs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from recostack.store.tables import Base, UTCDateTime

__all__ = ["DeploymentStatisticsRow"]


class DeploymentStatisticsRow(Base):
    __tablename__ = "deployment_statistics"

    deployment_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    #: minute, hour or day
    granularity: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors_4xx: Mapped[int] = mapped_column(BigInteger, default=0)
    errors_5xx: Mapped[int] = mapped_column(BigInteger, default=0)
    #: zlib of 128 int64 counts (``serving.stat_sketches.LatencyHistogram``)
    latency_histogram: Mapped[bytes | None] = mapped_column(LargeBinary)
    latency_total_ms: Mapped[float] = mapped_column(Float, default=0.0)
    #: zlib of a HyperLogLog's 1024 registers (``serving.stat_sketches.UserSketch``)
    users_sketch: Mapped[bytes | None] = mapped_column(LargeBinary)
    responses: Mapped[int] = mapped_column(BigInteger, default=0)
    take_ups: Mapped[int] = mapped_column(BigInteger, default=0)
