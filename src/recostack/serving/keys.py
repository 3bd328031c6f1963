"""API keys as the request path checks them: roles, slots, digests and the key ring.

A key is stored only as ``sha256(salt || key)`` with a per-key random salt
(``recostack.store.key_repository`` writes them); comparisons are
constant-time. :class:`KeyRing` holds the stored digests in memory,
reloaded when the keys' stamp changes, and remembers the keys that
matched, so a request costs a dictionary lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from recostack.serving.stamps import KEYS_GENERATION, Stamps

__all__ = ["KeyDigest", "KeyRing", "Role", "Slot", "hash_key", "verify_key"]

#: keys remembered once verified (a handful are in use at a time)
_MAX_VERIFIED = 64


class Role(StrEnum):
    ADMIN = "admin"
    RECOMMEND = "recommend"


class Slot(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


@dataclass(frozen=True, slots=True)
class KeyDigest:
    role: Role
    slot: Slot
    salt: bytes
    digest: bytes
    created_at: datetime


def hash_key(key: str, salt: bytes) -> bytes:
    return hashlib.sha256(salt + key.encode("utf-8", "surrogatepass")).digest()


def verify_key(digests: tuple[KeyDigest, ...], key: str) -> Role | None:
    """The role of ``key`` (admin wins), or ``None`` if it matches no stored key."""
    role: Role | None = None
    for entry in digests:
        if hmac.compare_digest(hash_key(key, entry.salt), entry.digest) and role != Role.ADMIN:
            role = entry.role
    return role


class KeyRing:
    """The stored key digests, and the keys that matched them so far (replaced together,
    so a rotated key stops working at once)."""

    def __init__(self, read: Callable[[], tuple[KeyDigest, ...]]) -> None:
        self._read = read
        self._ring: tuple[tuple[KeyDigest, ...], dict[str, Role]] = ((), {})
        self._stamp: str | None = None
        self._loaded = False
        self._lock = threading.Lock()

    def role_for(self, key: str) -> Role | None:
        digests, verified = self._ring
        role = verified.get(key)
        if role is None:
            role = verify_key(digests, key)
            if role is not None and len(verified) < _MAX_VERIFIED:
                verified[key] = role
        return role

    def on_stamps(self, stamps: Stamps) -> None:
        stamp = stamps.get(KEYS_GENERATION)
        if self._loaded and stamp == self._stamp and self._ring[0]:
            return
        with self._lock:
            self._ring = (self._read(), {})
            self._stamp, self._loaded = stamp, True
