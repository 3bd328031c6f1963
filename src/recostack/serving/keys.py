"""API keys as the request path checks them: roles, slots, digests and the key ring.

A key is stored only as ``HMAC-SHA256(server secret, SHA-256(salt || key))``
with a per-key random salt (``recostack.store.key_repository`` writes them):
without the server secret (``RECOSTACK_SECRET_KEY``, else
``<data_dir>/secret.key``, never in the database) a copy of the database
gives nothing to test guesses against, and checking a key costs two hashes,
so a flood of wrong keys cannot exhaust the CPU as a slow hash would let it.
Digests written before (``sha256``: ``SHA-256(salt || key)``) are still
checked, and are wrapped into the keyed form in place, without the key
(:func:`wrap_legacy_digest`), the next time ``recostack serve`` starts.
Every comparison is constant-time.

:class:`KeyRing` holds the stored digests in memory, reloaded when the keys'
stamp changes, and remembers the keys that matched by a keyed BLAKE2b
fingerprint (never the key itself), so a request costs one fast hash and a
dictionary lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from recostack.serving.stamps import KEYS_GENERATION, Stamps

__all__ = [
    "HMAC_SCHEME",
    "LEGACY_SCHEME",
    "KeyDigest",
    "KeyRing",
    "KeySecret",
    "Role",
    "Slot",
    "VerifiedKey",
    "verify_key",
    "wrap_legacy_digest",
]

logger = logging.getLogger(__name__)

#: keys remembered once verified (a handful are in use at a time)
_MAX_VERIFIED = 64
#: ``HMAC-SHA256(secret, SHA-256(salt || key))``
HMAC_SCHEME = "hmac-sha256"
#: ``SHA-256(salt || key)``: how keys were stored before the server secret keyed them
LEGACY_SCHEME = "sha256"


class Role(StrEnum):
    ADMIN = "admin"
    RECOMMEND = "recommend"


class Slot(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


class KeySecret:
    """The server secret that keys the stored digests.

    ``id`` names the secret without revealing it (the first 8 bytes of an HMAC
    of a fixed text): each stored digest records the id of the secret it was
    made with, so a process given another secret can say so instead of
    refusing every key without a reason.
    """

    __slots__ = ("_secret", "id")

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the server secret is empty")
        self._secret = secret
        self.id = hmac.new(secret, b"recostack api key secret id", hashlib.sha256).hexdigest()[:16]

    def digest(self, key: str, salt: bytes) -> bytes:
        """The stored form of ``key`` with ``salt``."""
        return self.wrap(_sha256(key, salt))

    def wrap(self, inner: bytes) -> bytes:
        return hmac.new(self._secret, inner, hashlib.sha256).digest()

    def __repr__(self) -> str:  # never the secret itself
        return f"KeySecret(id={self.id!r})"


def _sha256(key: str, salt: bytes) -> bytes:
    return hashlib.sha256(salt + key.encode("utf-8", "surrogatepass")).digest()


def wrap_legacy_digest(secret: KeySecret, legacy: bytes) -> bytes:
    """A ``sha256`` digest turned into the keyed form, without knowing the key."""
    return secret.wrap(legacy)


@dataclass(frozen=True, slots=True)
class KeyDigest:
    role: Role
    slot: Slot
    salt: bytes
    digest: bytes
    created_at: datetime
    #: how ``digest`` was made: :data:`HMAC_SCHEME` or :data:`LEGACY_SCHEME`
    scheme: str = HMAC_SCHEME
    #: the :attr:`KeySecret.id` of the secret that keyed it (``None`` for a legacy digest)
    secret_id: str | None = None

    def matches(self, secret: KeySecret | None, key: str) -> bool:
        """Whether ``key`` is this digest's key (constant-time in the key)."""
        if self.scheme == LEGACY_SCHEME:
            return hmac.compare_digest(_sha256(key, self.salt), self.digest)
        if secret is None or self.scheme != HMAC_SCHEME:
            return False
        # a digest of another secret cannot match; computed anyway, to take the same time
        same = hmac.compare_digest(secret.digest(key, self.salt), self.digest)
        return same and self.secret_id == secret.id


def verify_key(digests: tuple[KeyDigest, ...], key: str, secret: KeySecret | None) -> Role | None:
    """The role of ``key`` (admin wins), or ``None`` if it matches no stored key."""
    found = _match(digests, key, secret)
    return found.role if found is not None else None


def _match(digests: tuple[KeyDigest, ...], key: str, secret: KeySecret | None) -> KeyDigest | None:
    """The stored key ``key`` is (an admin one first); every digest is computed."""
    found: KeyDigest | None = None
    for entry in digests:
        if entry.matches(secret, key) and (found is None or found.role != Role.ADMIN):
            found = entry
    return found


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    """What a request's key is: its role and which stored key (``admin/primary``...)."""

    role: Role
    id: str


class KeyRing:
    """The stored key digests, and the fingerprints of the keys that matched them so far
    (replaced together, so a rotated key stops working at once).

    ``secret`` is the server secret; without one (a process that serves no
    API, such as a batch worker) only legacy digests could match.
    """

    def __init__(
        self, read: Callable[[], tuple[KeyDigest, ...]], secret: KeySecret | None = None
    ) -> None:
        self._read = read
        self._secret = secret
        #: keys the fingerprints of verified keys (random per process: not a digest of the
        #: key that could be looked up anywhere else)
        self._fingerprint_key = secrets.token_bytes(32)
        self._ring: tuple[tuple[KeyDigest, ...], dict[bytes, VerifiedKey]] = ((), {})
        self._stamp: str | None = None
        self._loaded = False
        self._lock = threading.Lock()

    def _fingerprint(self, key: str) -> bytes:
        return hashlib.blake2b(
            key.encode("utf-8", "surrogatepass"), key=self._fingerprint_key, digest_size=16
        ).digest()

    def role_for(self, key: str) -> Role | None:
        found = self.verify(key)
        return found.role if found is not None else None

    def verify(self, key: str) -> VerifiedKey | None:
        """The stored key ``key`` is, or ``None``: a dictionary lookup once it was verified."""
        digests, verified = self._ring
        fingerprint = self._fingerprint(key)
        found = verified.get(fingerprint)
        if found is None:
            entry = _match(digests, key, self._secret)
            if entry is None:
                return None
            found = VerifiedKey(entry.role, f"{entry.role.value}/{entry.slot.value}")
            if len(verified) < _MAX_VERIFIED:
                verified[fingerprint] = found
        return found

    def foreign_digests(self) -> list[KeyDigest]:
        """Stored digests keyed by another server secret than this process's (they can never
        match here: the processes disagree on ``RECOSTACK_SECRET_KEY``)."""
        secret_id = self._secret.id if self._secret is not None else None
        return [d for d in self._ring[0] if d.scheme == HMAC_SCHEME and d.secret_id != secret_id]

    def on_stamps(self, stamps: Stamps) -> None:
        stamp = stamps.get(KEYS_GENERATION)
        if self._loaded and stamp == self._stamp and self._ring[0]:
            return
        with self._lock:
            self._ring = (self._read(), {})
            self._stamp, self._loaded = stamp, True
        foreign = self.foreign_digests() if self._secret is not None else []
        if foreign:
            logger.error(
                "the API keys %s were stored by a process with another server secret "
                "(RECOSTACK_SECRET_KEY or <data_dir>/secret.key): they are refused here until "
                "every process has the same secret or the keys are rotated",
                ", ".join(f"{d.role.value}/{d.slot.value}" for d in foreign),
            )
