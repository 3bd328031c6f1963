"""API keys keyed by the server secret (issue 19): how each digest was made, and by which
secret.

Rows stored before are marked ``sha256``; ``recostack serve`` wraps them into
the keyed form when it starts (``recostack.store.key_repository.ensure_keys``),
which needs the server secret, so this revision does not.

Revision ID: 0009_key_digests
Revises: 0008_web_sessions
Create Date: 2026-12-10 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_key_digests"
down_revision: str | None = "0008_web_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.add_column(
            sa.Column("scheme", sa.String(16), nullable=False, server_default="sha256")
        )
        table.add_column(sa.Column("secret_id", sa.String(16), nullable=True))


def downgrade() -> None:
    # keyed digests cannot be turned back into plain ones: the keys must be set again
    op.execute(sa.text("DELETE FROM api_keys WHERE scheme <> 'sha256'"))
    with op.batch_alter_table("api_keys") as table:
        table.drop_column("secret_id")
        table.drop_column("scheme")
