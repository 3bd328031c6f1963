"""Operations: statistics rollups, refresh policies, alerts, webhooks, monitors (issue 15).

Revision ID: 0006_operations
Revises: 0005_online_learning
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006_operations"
down_revision: str | None = "0005_online_learning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
