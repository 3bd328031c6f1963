"""Batch: batch inference jobs, batch predictions, campaigns (issue 16).

Revision ID: 0007_batch
Revises: 0006_operations
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_batch"
down_revision: str | None = "0006_operations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
