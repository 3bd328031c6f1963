"""Online learning: offers, feature stores, configurations, the options store (issue 14).

Revision ID: 0005_online_learning
Revises: 0004_auto_deploy
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005_online_learning"
down_revision: str | None = "0004_auto_deploy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
