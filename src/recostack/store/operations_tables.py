"""Tables of operations: schedules and their claims, alerts, webhooks, monitors, workers.

Migration ``0006_operations``. Deployments are named by ``deployment_id``
(every version of a deployment shares what is attached to it); deleting the
last version of a deployment deletes what is attached to it.

- ``refresh_policies``: a cron schedule that retrains a deployment's model
  (or a model lineage's), with its next due time;
- ``schedule_claims``: one row per (kind, target, due time) run: its unique
  key is what makes each due time run exactly once across worker processes;
- ``alerts`` / ``alert_events``: a condition on a statistic, its action, its
  state (OK, FIRING, RESOLVED) and the history of its changes;
- ``webhooks`` / ``webhook_deliveries``: endpoints per event type and the
  delivery log (status, attempts, next attempt, last error);
- ``realtime_monitors`` / ``monitor_results``: a schedule comparing the
  answers of a lookback window with the model's training data, and what it found;
- ``worker_heartbeats``: the workers alive, as they last said.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from recostack.store.tables import Base, JSONDocument, UTCDateTime, utcnow

__all__ = [
    "AlertEventRow",
    "AlertRow",
    "MonitorResultRow",
    "RealtimeMonitorRow",
    "RefreshPolicyRow",
    "ScheduleClaimRow",
    "WebhookDeliveryRow",
    "WebhookRow",
    "WorkerHeartbeatRow",
]


class RefreshPolicyRow(Base):
    __tablename__ = "refresh_policies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    #: DEPLOYMENT (retrain what the deployment serves) or MODEL (a model's lineage)
    refresh_type: Mapped[str] = mapped_column(String(16))
    deployment_id: Mapped[str | None] = mapped_column(String(128), index=True)
    #: MODEL: the lineage's newest model (its parameters are retrained)
    model_id: Mapped[str | None] = mapped_column(String(36), index=True)
    project_id: Mapped[str | None] = mapped_column(String(128))
    cron: Mapped[str] = mapped_column(String(128))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_model_id: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduleClaimRow(Base):
    __tablename__ = "schedule_claims"

    #: refresh, alert or monitor
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    claimed_by: Mapped[str] = mapped_column(String(128))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: what the run did (a model id, a state, "missed"), or why it failed
    outcome: Mapped[str | None] = mapped_column(Text)


class AlertRow(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(256))
    condition: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    action: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: OK, FIRING or RESOLVED
    state: Mapped[str] = mapped_column(String(16))
    state_since: Mapped[datetime] = mapped_column(UTCDateTime)
    #: the times the condition held, within the condition's period
    breaches: Mapped[list[str]] = mapped_column(JSONDocument)
    last_value: Mapped[float | None] = mapped_column(Float)
    last_evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_evaluation_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertEventRow(Base):
    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookRow(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(128), index=True)
    endpoint: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(32))
    payload_template: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    #: the secret is derived from the server's key and this salt; it is never stored
    secret_salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    #: pending, delivered or failed
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RealtimeMonitorRow(Base):
    __tablename__ = "realtime_monitors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(128), unique=True)
    #: cron of the runs
    schedule: Mapped[str] = mapped_column(String(128))
    lookback_seconds: Mapped[int] = mapped_column(Integer)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MonitorResultRow(Base):
    __tablename__ = "monitor_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    monitor_id: Mapped[str] = mapped_column(
        ForeignKey("realtime_monitors.id", ondelete="CASCADE"), index=True
    )
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    model_id: Mapped[str | None] = mapped_column(String(36))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class WorkerHeartbeatRow(Base):
    __tablename__ = "worker_heartbeats"

    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
