"""Projects, deployments, customers, prediction logs and response logs.

Revision ID: 0003_deployments
Revises: 0002_scenarios
Create Date: 2025-01-03 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_deployments"
down_revision: str | None = "0002_scenarios"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("project_id", sa.String(128), primary_key=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("project_type", sa.String(128), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("start_date", sa.String(32), nullable=True),
        sa.Column("end_date", sa.String(32), nullable=True),
        sa.Column("data_science_lead", sa.String(256), nullable=True),
        sa.Column("data_lead", sa.String(256), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("deployment_id", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column(
            "project_id", sa.String(128), sa.ForeignKey("projects.project_id"), nullable=False
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("model_ids", _JSON, nullable=False),
        sa.Column("pending_model_version", sa.String(36), nullable=True),
        sa.Column("history", _JSON, nullable=False),
        sa.Column("settings", _JSON, nullable=False),
        sa.Column("auto_deploy", sa.Boolean(), nullable=False),
        sa.Column("skip_metrics_check", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("deployed_at", _TIME, nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.UniqueConstraint("deployment_id", "version", name="uq_deployment_version"),
    )
    op.create_index("ix_deployments_deployment_id", "deployments", ["deployment_id"])
    op.create_index("ix_deployments_project_id", "deployments", ["project_id"])
    op.create_table(
        "customers",
        sa.Column("collection", sa.String(128), primary_key=True),
        sa.Column("customer_id", sa.String(255), primary_key=True),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_table(
        "prediction_logs",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("deployment_id", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("model_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("items", _JSON, nullable=False),
        sa.Column("context", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_prediction_logs_deployment_time",
        "prediction_logs",
        ["deployment_id", "created_at", "request_id"],
    )
    op.create_table(
        "response_logs",
        sa.Column("response_id", sa.String(36), primary_key=True),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("deployment_id", sa.String(128), nullable=False),
        sa.Column("item_id", sa.String(450), nullable=True),
        sa.Column("event", sa.String(64), nullable=True),
        sa.Column("reward", sa.Float(), nullable=True),
        sa.Column("take_up", sa.Boolean(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_index("ix_response_logs_request_id", "response_logs", ["request_id"])
    op.create_index(
        "ix_response_logs_deployment_time",
        "response_logs",
        ["deployment_id", "created_at", "response_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_response_logs_deployment_time", table_name="response_logs")
    op.drop_index("ix_response_logs_request_id", table_name="response_logs")
    op.drop_table("response_logs")
    op.drop_index("ix_prediction_logs_deployment_time", table_name="prediction_logs")
    op.drop_table("prediction_logs")
    op.drop_table("customers")
    op.drop_index("ix_deployments_project_id", table_name="deployments")
    op.drop_index("ix_deployments_deployment_id", table_name="deployments")
    op.drop_table("deployments")
    op.drop_table("projects")
    op.execute(
        "DELETE FROM settings WHERE key IN ('deployments_generation', 'customers_generation')"
    )
