"""API keys: two roles (admin, recommend) times two slots (primary, secondary).

A key is 256 random bits, shown once when it is made and stored only as
``sha256(salt || key)`` with a per-key random salt. Comparisons are
constant-time. Every change writes a new ``keys_generation`` stamp so that
running API processes reload their key ring within a second.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from recostack.serving.keys import KeyDigest, Role, Slot, hash_key, verify_key
from recostack.serving.stamps import KEYS_GENERATION
from recostack.store.server_settings import bump_stamp
from recostack.store.tables import ApiKeyRow, utcnow

__all__ = ["ensure_keys", "generate_key", "read_key_digests", "rotate_key", "set_key"]


def generate_key() -> str:
    return secrets.token_urlsafe(32)


def set_key(session: Session, role: Role, slot: Slot, key: str) -> None:
    salt = secrets.token_bytes(16)
    row = session.get(ApiKeyRow, (role.value, slot.value))
    if row is None:
        row = ApiKeyRow(role=role.value, slot=slot.value)
        session.add(row)
    row.salt = salt.hex()
    row.digest = hash_key(key, salt).hex()
    row.created_at = utcnow()
    bump_stamp(session, KEYS_GENERATION)


def rotate_key(session: Session, role: Role, slot: Slot) -> str:
    """Replace one key with a new random one and return it (the only time it is seen)."""
    key = generate_key()
    set_key(session, role, slot, key)
    return key


def ensure_keys(session: Session, provided: dict[Role, str | None]) -> dict[tuple[Role, Slot], str]:
    """Make every missing key; returns the keys generated now, to show once.

    ``provided`` gives a role's primary key explicitly (from the
    environment); it replaces the stored primary key when it differs.
    """
    generated: dict[tuple[Role, Slot], str] = {}
    stored = {(d.role, d.slot): d for d in read_key_digests(session.connection())}
    for role in Role:
        for slot in Slot:
            given = provided.get(role) if slot == Slot.PRIMARY else None
            current = stored.get((role, slot))
            if given:
                if current is None or verify_key((current,), given) is None:
                    set_key(session, role, slot, given)
            elif current is None:
                generated[(role, slot)] = rotate_key(session, role, slot)
    return generated


def read_key_digests(connection: Connection) -> tuple[KeyDigest, ...]:
    """Every stored key's digest (``session.connection()`` works too)."""
    rows = connection.execute(
        select(
            ApiKeyRow.role, ApiKeyRow.slot, ApiKeyRow.salt, ApiKeyRow.digest, ApiKeyRow.created_at
        ).order_by(ApiKeyRow.role, ApiKeyRow.slot)
    )
    return tuple(
        KeyDigest(Role(role), Slot(slot), bytes.fromhex(salt), bytes.fromhex(digest), created)
        for role, slot, salt, digest, created in rows
    )
