"""Operations: statistics rollups, refresh policies, alerts, webhooks, monitors (issue 15).

Tables of ``recostack.store.statistics_tables`` and
``recostack.store.operations_tables``.

Revision ID: 0006_operations
Revises: 0005_online_learning
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_operations"
down_revision: str | None = "0005_online_learning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{columns[0]}", table, list(columns))


def upgrade() -> None:
    op.create_table(
        "deployment_statistics",
        sa.Column("deployment_id", sa.String(128), primary_key=True),
        sa.Column("granularity", sa.String(8), primary_key=True),
        sa.Column("bucket_start", _TIME, primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors_4xx", sa.BigInteger(), nullable=False),
        sa.Column("errors_5xx", sa.BigInteger(), nullable=False),
        sa.Column("latency_histogram", sa.LargeBinary(), nullable=True),
        sa.Column("latency_total_ms", sa.Float(), nullable=False),
        sa.Column("users_sketch", sa.LargeBinary(), nullable=True),
        sa.Column("responses", sa.BigInteger(), nullable=False),
        sa.Column("take_ups", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "refresh_policies",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("refresh_type", sa.String(16), nullable=False),
        sa.Column("deployment_id", sa.String(128), nullable=True),
        sa.Column("model_id", sa.String(36), nullable=True),
        sa.Column("project_id", sa.String(128), nullable=True),
        sa.Column("cron", sa.String(128), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", _TIME, nullable=False),
        sa.Column("last_run_at", _TIME, nullable=True),
        sa.Column("last_model_id", sa.String(36), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
    )
    _index("refresh_policies", "deployment_id")
    _index("refresh_policies", "model_id")
    _index("refresh_policies", "next_run_at")
    op.create_table(
        "schedule_claims",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("target_id", sa.String(36), primary_key=True),
        sa.Column("due_at", _TIME, primary_key=True),
        sa.Column("claimed_by", sa.String(128), nullable=False),
        sa.Column("claimed_at", _TIME, nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("deployment_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("condition", _JSON, nullable=False),
        sa.Column("action", _JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_since", _TIME, nullable=False),
        sa.Column("breaches", _JSON, nullable=False),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("last_evaluated_at", _TIME, nullable=True),
        sa.Column("next_evaluation_at", _TIME, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    _index("alerts", "deployment_id")
    _index("alerts", "next_evaluation_at")
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "alert_id",
            sa.String(36),
            sa.ForeignKey("alerts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
    )
    _index("alert_events", "alert_id")
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("deployment_id", sa.String(128), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("payload_template", _JSON, nullable=True),
        sa.Column("secret_salt", sa.String(64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    _index("webhooks", "deployment_id")
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "webhook_id",
            sa.String(36),
            sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", _TIME, nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("delivered_at", _TIME, nullable=True),
    )
    _index("webhook_deliveries", "webhook_id")
    _index("webhook_deliveries", "status")
    _index("webhook_deliveries", "next_attempt_at")
    op.create_table(
        "realtime_monitors",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("deployment_id", sa.String(128), nullable=False, unique=True),
        sa.Column("schedule", sa.String(128), nullable=False),
        sa.Column("lookback_seconds", sa.Integer(), nullable=False),
        sa.Column("next_run_at", _TIME, nullable=False),
        sa.Column("last_run_at", _TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
    )
    _index("realtime_monitors", "next_run_at")
    op.create_table(
        "monitor_results",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "monitor_id",
            sa.String(36),
            sa.ForeignKey("realtime_monitors.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("computed_at", _TIME, nullable=False),
        sa.Column("window_start", _TIME, nullable=False),
        sa.Column("window_end", _TIME, nullable=False),
        sa.Column("model_id", sa.String(36), nullable=True),
        sa.Column("metrics", _JSON, nullable=False),
    )
    _index("monitor_results", "monitor_id")
    op.create_table(
        "worker_heartbeats",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
    )
    _index("worker_heartbeats", "last_seen_at")


def downgrade() -> None:
    for table in (
        "worker_heartbeats",
        "monitor_results",
        "realtime_monitors",
        "webhook_deliveries",
        "webhooks",
        "alert_events",
        "alerts",
        "schedule_claims",
        "refresh_policies",
        "deployment_statistics",
    ):
        op.drop_table(table)
