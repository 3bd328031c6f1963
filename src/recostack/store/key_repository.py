"""API keys: two roles (admin, recommend) times two slots (primary, secondary).

A key is 256 random bits, shown once when it is made and stored only as
``HMAC-SHA256(server secret, SHA-256(salt || key))`` with a per-key random
salt (:mod:`recostack.serving.keys`). Comparisons are constant-time. Every
change writes a new ``keys_generation`` stamp so that running API processes
reload their key ring within a second.

Digests stored before the server secret keyed them (scheme ``sha256``) are
wrapped in place by :func:`ensure_keys` (``recostack serve`` runs it when it
starts): the key is not needed for that, so nobody has to be given a new one.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from recostack.errors import Conflict
from recostack.serving.keys import (
    HMAC_SCHEME,
    LEGACY_SCHEME,
    KeyDigest,
    KeySecret,
    Role,
    Slot,
    verify_key,
    wrap_legacy_digest,
)
from recostack.serving.stamps import KEYS_GENERATION
from recostack.store.server_settings import bump_stamp
from recostack.store.tables import ApiKeyRow, utcnow

__all__ = [
    "ensure_keys",
    "generate_key",
    "read_key_digests",
    "rotate_key",
    "set_key",
    "upgrade_legacy_digests",
]


def generate_key() -> str:
    return secrets.token_urlsafe(32)


def set_key(session: Session, role: Role, slot: Slot, key: str, secret: KeySecret) -> None:
    salt = secrets.token_bytes(16)
    row = session.get(ApiKeyRow, (role.value, slot.value))
    if row is None:
        row = ApiKeyRow(role=role.value, slot=slot.value)
        session.add(row)
    row.salt = salt.hex()
    row.digest = secret.digest(key, salt).hex()
    row.scheme = HMAC_SCHEME
    row.secret_id = secret.id
    row.created_at = utcnow()
    bump_stamp(session, KEYS_GENERATION)


def rotate_key(session: Session, role: Role, slot: Slot, secret: KeySecret) -> str:
    """Replace one key with a new random one and return it (the only time it is seen)."""
    key = generate_key()
    set_key(session, role, slot, key, secret)
    return key


def upgrade_legacy_digests(session: Session, secret: KeySecret) -> int:
    """Wrap every ``sha256`` digest into the keyed form; the number of keys upgraded."""
    rows = session.scalars(select(ApiKeyRow).where(ApiKeyRow.scheme == LEGACY_SCHEME)).all()
    for row in rows:
        row.digest = wrap_legacy_digest(secret, bytes.fromhex(row.digest)).hex()
        row.scheme = HMAC_SCHEME
        row.secret_id = secret.id
    if rows:
        bump_stamp(session, KEYS_GENERATION)
    return len(rows)


def ensure_keys(
    session: Session, provided: dict[Role, str | None], secret: KeySecret
) -> dict[tuple[Role, Slot], str]:
    """Make every missing key; returns the keys generated now, to show once.

    ``provided`` gives a role's primary key explicitly (from the
    environment); it replaces the stored primary key when it differs.
    Legacy digests are upgraded first. A stored key that another server
    secret keyed (and that is not given again here) is a :class:`Conflict`:
    this process could never accept it.
    """
    upgrade_legacy_digests(session, secret)
    generated: dict[tuple[Role, Slot], str] = {}
    stored = {(d.role, d.slot): d for d in read_key_digests(session.connection())}
    foreign: list[str] = []
    for role in Role:
        for slot in Slot:
            given = provided.get(role) if slot == Slot.PRIMARY else None
            current = stored.get((role, slot))
            if given:
                if current is None or verify_key((current,), given, secret) is None:
                    set_key(session, role, slot, given, secret)
            elif current is None:
                generated[(role, slot)] = rotate_key(session, role, slot, secret)
            elif current.secret_id != secret.id:
                foreign.append(f"--role {role.value} --slot {slot.value}")
    if foreign:
        raise Conflict(
            "the stored API keys were made with another server secret than this process's "
            "(RECOSTACK_SECRET_KEY, else <data_dir>/secret.key): give every process the same "
            "secret, or replace the keys with `recostack keys rotate "
            + "` and `recostack keys rotate ".join(foreign)
            + "`",
            field="secret_key",
        )
    return generated


def read_key_digests(connection: Connection) -> tuple[KeyDigest, ...]:
    """Every stored key's digest (``session.connection()`` works too)."""
    rows = connection.execute(
        select(
            ApiKeyRow.role,
            ApiKeyRow.slot,
            ApiKeyRow.salt,
            ApiKeyRow.digest,
            ApiKeyRow.created_at,
            ApiKeyRow.scheme,
            ApiKeyRow.secret_id,
        ).order_by(ApiKeyRow.role, ApiKeyRow.slot)
    )
    return tuple(
        KeyDigest(
            Role(role),
            Slot(slot),
            bytes.fromhex(salt),
            bytes.fromhex(digest),
            created,
            scheme,
            secret_id,
        )
        for role, slot, salt, digest, created, scheme, secret_id in rows
    )
