"""Online learning: offers, feature stores, configurations, the options store (issue 14).

Revision ID: 0005_online_learning
Revises: 0004_auto_deploy
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_online_learning"
down_revision: str | None = "0004_auto_deploy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("collection", sa.String(128), primary_key=True),
        sa.Column("offer_id", sa.String(255), primary_key=True),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_table(
        "feature_stores",
        sa.Column("database", sa.String(128), primary_key=True),
        sa.Column("collection", sa.String(128), primary_key=True),
        sa.Column("offer_database", sa.String(128), nullable=False),
        sa.Column("offer_collection", sa.String(128), nullable=False),
        sa.Column("offer_name_column", sa.String(128), nullable=False),
        sa.Column("contextual_variables", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_table(
        "feature_store_entries",
        sa.Column("database", sa.String(128), primary_key=True),
        sa.Column("collection", sa.String(128), primary_key=True),
        sa.Column("offer", sa.String(255), primary_key=True),
        sa.Column("segment", sa.String(255), primary_key=True),
        sa.Column("values", _JSON, nullable=False),
    )
    op.create_table(
        "online_learning_configs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("algorithm", sa.String(64), nullable=False),
        sa.Column("feature_store_database", sa.String(128), nullable=False),
        sa.Column("feature_store_collection", sa.String(128), nullable=False),
        sa.Column("parameters", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_table(
        "online_arms",
        sa.Column("config_id", sa.String(36), primary_key=True),
        sa.Column("offer", sa.String(255), primary_key=True),
        sa.Column("segment", sa.String(255), primary_key=True),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("beta", sa.Float(), nullable=False),
        sa.Column("alpha_zero", sa.Float(), nullable=False),
        sa.Column("beta_zero", sa.Float(), nullable=False),
        sa.Column("shown", sa.BigInteger(), nullable=False),
        sa.Column("taken_up", sa.BigInteger(), nullable=False),
        sa.Column("declined", sa.BigInteger(), nullable=False),
        sa.Column("reward_sum", sa.Float(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("arm_reward", sa.Float(), nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_index("ix_online_arms_segment", "online_arms", ["config_id", "segment"])
    op.create_table(
        "online_interactions",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("offer", sa.String(255), primary_key=True),
        sa.Column("config_id", sa.String(36), nullable=False),
        sa.Column("deployment_id", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("segment", sa.String(255), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("shown_ms", sa.BigInteger(), nullable=False),
        sa.Column("draw", sa.Float(), nullable=False),
        sa.Column("propensity", sa.Float(), nullable=False),
        sa.Column("explored", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.Boolean(), nullable=True),
        sa.Column("reward", sa.Float(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
    )
    op.create_index(
        "ix_online_interactions_arm",
        "online_interactions",
        ["config_id", "offer", "segment", "shown_ms"],
    )
    op.create_index(
        "ix_online_interactions_counted",
        "online_interactions",
        ["config_id", "counted", "shown_ms"],
    )


def downgrade() -> None:
    op.drop_index("ix_online_interactions_counted", table_name="online_interactions")
    op.drop_index("ix_online_interactions_arm", table_name="online_interactions")
    op.drop_index("ix_online_arms_segment", table_name="online_arms")
    for table in (
        "online_interactions",
        "online_arms",
        "online_learning_configs",
        "feature_store_entries",
        "feature_stores",
        "offers",
    ):
        op.drop_table(table)
    op.execute("DELETE FROM settings WHERE key = 'online_learning_generation'")
