"""Auto-deploy: models belong to a project; deployments record their last auto-deploy.

``models.project_id`` is a plain indexed column, not a foreign key: SQLite
can add a foreign key only by rebuilding ``models``, which
``training_jobs`` cascades from. The API checks the project on create and
clears the column when a project is deleted.

Revision ID: 0004_auto_deploy
Revises: 0003_deployments
Create Date: 2025-01-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_auto_deploy"
down_revision: str | None = "0003_deployments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("models", sa.Column("project_id", sa.String(128), nullable=True))
    op.create_index("ix_models_project_id", "models", ["project_id"])
    op.add_column("deployments", sa.Column("last_auto_deploy", _JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("deployments", "last_auto_deploy")
    op.drop_index("ix_models_project_id", table_name="models")
    op.drop_column("models", "project_id")
