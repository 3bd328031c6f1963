"""API key digests keyed by the server secret: legacy digests wrapped in place, another
secret refused with a reason, the key ring caching fingerprints, never keys."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from sqlalchemy import select, update

from recostack.errors import Conflict
from recostack.serving.keys import (
    HMAC_SCHEME,
    LEGACY_SCHEME,
    KeyRing,
    KeySecret,
    Role,
    Slot,
    verify_key,
)
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.key_repository import (
    ensure_keys,
    generate_key,
    read_key_digests,
    rotate_key,
)
from recostack.store.server_secret import SECRET_FILE, key_secret, server_secret
from recostack.store.tables import ApiKeyRow


def _legacy(session: object, role: Role, slot: Slot, key: str) -> None:
    """Store ``key`` as the code before migration 0009 did: SHA-256(salt || key)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.sha256(salt + key.encode()).hexdigest()
    session.execute(  # type: ignore[attr-defined]
        update(ApiKeyRow)
        .where(ApiKeyRow.role == role.value, ApiKeyRow.slot == slot.value)
        .values(salt=salt.hex(), digest=digest, scheme=LEGACY_SCHEME, secret_id=None)
    )


def test_a_digest_is_keyed_by_the_server_secret(db: Database, settings: Settings) -> None:
    secret = key_secret(settings)
    with db.transaction() as session:
        key = rotate_key(session, Role.ADMIN, Slot.SECONDARY, secret)
        row = session.get(ApiKeyRow, ("admin", "secondary"))
        assert row is not None
        assert (row.scheme, row.secret_id) == (HMAC_SCHEME, secret.id)
        # the salted SHA-256 alone (what a copy of the database could test guesses against)
        plain = hashlib.sha256(bytes.fromhex(row.salt) + key.encode()).hexdigest()
        assert row.digest != plain
        digests = read_key_digests(session.connection())
    assert verify_key(digests, key, secret) == Role.ADMIN
    assert verify_key(digests, key, KeySecret(b"another secret")) is None
    assert verify_key(digests, key, None) is None


def test_legacy_digests_are_wrapped_without_the_key_and_keep_working(
    db: Database, settings: Settings
) -> None:
    secret = key_secret(settings)
    old_keys = {Slot.PRIMARY: generate_key(), Slot.SECONDARY: generate_key()}
    with db.transaction() as session:
        for slot, key in old_keys.items():
            _legacy(session, Role.RECOMMEND, slot, key)
        digests = read_key_digests(session.connection())
    # before the upgrade, a legacy digest is still accepted
    assert verify_key(digests, old_keys[Slot.PRIMARY], secret) == Role.RECOMMEND
    with db.transaction() as session:
        # recostack serve at start: nothing given for the recommend role, nothing generated
        assert ensure_keys(session, {}, secret) == {}
        schemes = set(session.scalars(select(ApiKeyRow.scheme)))
        digests = read_key_digests(session.connection())
    assert schemes == {HMAC_SCHEME}
    for key in old_keys.values():
        assert verify_key(digests, key, secret) == Role.RECOMMEND
        assert verify_key(digests, key, KeySecret(b"x")) is None


def test_keys_of_another_secret_are_refused_with_the_way_out(
    db: Database, settings: Settings
) -> None:
    other = KeySecret(b"the secret of another machine")
    with db.transaction() as session:
        rotate_key(session, Role.ADMIN, Slot.SECONDARY, other)
    with db.transaction() as session, pytest.raises(Conflict) as refused:
        ensure_keys(session, {}, key_secret(settings))
    assert "recostack keys rotate --role admin --slot secondary" in refused.value.message
    assert refused.value.field == "secret_key"
    # a key given again (from the environment) is simply stored again with this secret
    with db.transaction() as session:
        rotate_key(session, Role.ADMIN, Slot.SECONDARY, key_secret(settings))
        rotate_key(session, Role.ADMIN, Slot.PRIMARY, other)
    with db.transaction() as session:
        assert ensure_keys(session, {Role.ADMIN: "given-admin-key"}, key_secret(settings)) == {}
        digests = read_key_digests(session.connection())
    assert verify_key(digests, "given-admin-key", key_secret(settings)) == Role.ADMIN


def test_the_generated_secret_is_owner_only_and_stable(settings: Settings) -> None:
    first = server_secret(settings)
    path = settings.data_dir / SECRET_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert server_secret(settings) == first and len(first) == 64
    assert [p.name for p in settings.data_dir.iterdir() if p.name.startswith(".secret")] == []


def test_the_key_ring_remembers_fingerprints_not_keys(db: Database, settings: Settings) -> None:
    secret = key_secret(settings)
    with db.transaction() as session:
        key = rotate_key(session, Role.ADMIN, Slot.SECONDARY, secret)

    def read() -> tuple:  # type: ignore[type-arg]
        with db.engine.connect() as connection:
            return read_key_digests(connection)

    ring = KeyRing(read, secret)
    ring.on_stamps({})
    assert ring.role_for(key) == Role.ADMIN
    assert ring.role_for(key + "x") is None
    verified = ring._ring[1]
    assert len(verified) == 1
    remembered = next(iter(verified))
    assert key not in repr(verified) and key.encode() != remembered
    assert hashlib.sha256(key.encode()).digest()[:16] != remembered
    assert key not in repr(secret)
