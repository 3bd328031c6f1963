"""Shown offers indexed by an integer arm key instead of three strings (issue 14).

``online_interactions`` gets ``arm_key`` (:func:`recostack.store.arm_keys.arm_key`
of its configuration, offer and segment), filled in for the rows stored
before; the index ``(config_id, offer, segment, shown_ms)`` becomes
``(arm_key, shown_ms)``.

Revision ID: 0010_interaction_arm_keys
Revises: 0009_key_digests
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from recostack.store.arm_keys import arm_key

revision: str = "0010_interaction_arm_keys"
down_revision: str | None = "0009_key_digests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 10_000


def _fill_keys() -> None:
    connection = op.get_bind()
    arms = connection.execute(
        sa.text("SELECT DISTINCT config_id, offer, segment FROM online_interactions")
    ).all()
    update = sa.text(
        "UPDATE online_interactions SET arm_key = :k "
        "WHERE config_id = :c AND offer = :o AND segment = :s"
    )
    for start in range(0, len(arms), _CHUNK):
        connection.execute(
            update,
            [
                {"k": arm_key(c, o, s), "c": c, "o": o, "s": s}
                for c, o, s in arms[start : start + _CHUNK]
            ],
        )


def upgrade() -> None:
    with op.batch_alter_table("online_interactions") as table:
        table.add_column(sa.Column("arm_key", sa.BigInteger(), nullable=True))
    _fill_keys()
    op.drop_index("ix_online_interactions_arm", table_name="online_interactions")
    with op.batch_alter_table("online_interactions") as table:
        table.alter_column("arm_key", existing_type=sa.BigInteger(), nullable=False)
    op.create_index(
        "ix_online_interactions_arm_key", "online_interactions", ["arm_key", "shown_ms"]
    )


def downgrade() -> None:
    op.drop_index("ix_online_interactions_arm_key", table_name="online_interactions")
    op.create_index(
        "ix_online_interactions_arm",
        "online_interactions",
        ["config_id", "offer", "segment", "shown_ms"],
    )
    with op.batch_alter_table("online_interactions") as table:
        table.drop_column("arm_key")
