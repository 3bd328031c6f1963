"""Batch: jobs of every kind, batch inference jobs, batch predictions, campaigns (issue 16).

``training_jobs`` becomes ``jobs``: the workers' one queue, whose rows say
their ``kind`` (training, batch, campaign) and ``subject_id`` (what the job
works on: for a training job, its model). ``model_id`` stays the training
job's foreign key (now nullable: other kinds have no model of their own).

Revision ID: 0007_batch
Revises: 0006_operations
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_batch"
down_revision: str | None = "0006_operations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)


def _jobs_up() -> None:
    op.drop_index("ix_training_jobs_status", table_name="training_jobs")
    op.drop_index("ix_training_jobs_lease_expires_at", table_name="training_jobs")
    op.rename_table("training_jobs", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(32), nullable=False, server_default="training")
        )
        batch.add_column(sa.Column("subject_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("payload", _JSON, nullable=True))
        batch.alter_column("model_id", existing_type=sa.String(36), nullable=True)
    op.execute("UPDATE jobs SET subject_id = model_id")
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("subject_id", existing_type=sa.String(64), nullable=False)
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_lease_expires_at", "jobs", ["lease_expires_at"])
    op.create_index("ix_jobs_kind", "jobs", ["kind"])


def _jobs_down() -> None:
    op.execute("DELETE FROM jobs WHERE kind <> 'training'")
    op.drop_index("ix_jobs_kind", table_name="jobs")
    op.drop_index("ix_jobs_lease_expires_at", table_name="jobs")
    op.drop_index("ix_jobs_status", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("model_id", existing_type=sa.String(36), nullable=False)
        batch.drop_column("payload")
        batch.drop_column("subject_id")
        batch.drop_column("kind")
    op.rename_table("jobs", "training_jobs")
    op.create_index("ix_training_jobs_status", "training_jobs", ["status"])
    op.create_index("ix_training_jobs_lease_expires_at", "training_jobs", ["lease_expires_at"])


def upgrade() -> None:
    _jobs_up()
    op.create_table(
        "batch_predictions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("deployment_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("settings", _JSON, nullable=False),
        sa.Column("refresh_schedule", sa.String(128), nullable=True),
        sa.Column("next_run_at", _TIME, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_index("ix_batch_predictions_deployment_id", "batch_predictions", ["deployment_id"])
    op.create_index("ix_batch_predictions_next_run_at", "batch_predictions", ["next_run_at"])
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("model_id", sa.String(36), nullable=True),
        sa.Column("deployment_id", sa.String(128), nullable=True),
        sa.Column(
            "batch_prediction_id",
            sa.String(36),
            sa.ForeignKey("batch_predictions.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("config", _JSON, nullable=False),
        sa.Column("input_path", sa.Text(), nullable=True),
        sa.Column("output_path", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("lines_total", sa.BigInteger(), nullable=True),
        sa.Column("lines_done", sa.BigInteger(), nullable=False),
        sa.Column("lines_failed", sa.BigInteger(), nullable=False),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("input_offset", sa.BigInteger(), nullable=False),
        sa.Column("output_offset", sa.BigInteger(), nullable=False),
        sa.Column("resumed", sa.Integer(), nullable=False),
        sa.Column("run_started_lines", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("started_at", _TIME, nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
    )
    op.create_index("ix_batch_jobs_name", "batch_jobs", ["name"])
    op.create_index("ix_batch_jobs_status", "batch_jobs", ["status"])
    op.create_index("ix_batch_jobs_created_at", "batch_jobs", ["created_at"])
    op.create_index("ix_batch_jobs_batch_prediction_id", "batch_jobs", ["batch_prediction_id"])
    op.create_table(
        "campaigns",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("model_id", sa.String(36), nullable=False),
        sa.Column("min_provisioned_tps", sa.Integer(), nullable=False),
        sa.Column("campaign_config", _JSON, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("deployment_id", sa.String(128), nullable=False),
        sa.Column("measured_tps", sa.Float(), nullable=True),
        sa.Column("latest_update", _JSON, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("campaigns")
    op.drop_index("ix_batch_jobs_batch_prediction_id", table_name="batch_jobs")
    op.drop_index("ix_batch_jobs_created_at", table_name="batch_jobs")
    op.drop_index("ix_batch_jobs_status", table_name="batch_jobs")
    op.drop_index("ix_batch_jobs_name", table_name="batch_jobs")
    op.drop_table("batch_jobs")
    op.drop_index("ix_batch_predictions_next_run_at", table_name="batch_predictions")
    op.drop_index("ix_batch_predictions_deployment_id", table_name="batch_predictions")
    op.drop_table("batch_predictions")
    _jobs_down()
