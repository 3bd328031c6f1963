"""A/B group assignment: a deterministic function of (test id, user id).

A user's bucket is the 64-bit ``blake2b`` digest of ``f"{test_id}:{user_id}"``
(UTF-8), read big-endian, whose top 53 bits divided by 2**53 give a uniform
float in ``[0, 1)`` (exactly representable, never 1.0), the same in every
process and on every machine (Python's ``hash()`` is salted per process and
is never used). The user is in group A
iff the bucket is below ``probability_a``. So every ab_test scenario that
refers to the same test puts a user in the same group, on every endpoint, and
raising ``probability_a`` only moves users from B to A.
"""

from __future__ import annotations

import hashlib
import math
from typing import Literal

from recostack.errors import Invalid

__all__ = ["AbGroup", "AbHasher", "ab_bucket", "ab_group", "check_probability_a"]

AbGroup = Literal["A", "B"]

_SCALE = float(2**53)


def check_probability_a(probability_a: float) -> float:
    """``probability_a`` as a float if it is a number in [0, 1], else :class:`Invalid`."""
    if isinstance(probability_a, bool) or not isinstance(probability_a, int | float):
        raise Invalid(
            f"probability_a must be a number in [0, 1], got {probability_a!r}",
            field="probability_a",
        )
    value = float(probability_a)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise Invalid(
            f"probability_a must be in [0, 1], got {probability_a!r}", field="probability_a"
        )
    return value


def ab_bucket(test_id: str, user_id: str) -> float:
    """The user's uniform position in ``[0, 1)`` for this test."""
    return AbHasher(test_id).bucket(user_id)


class AbHasher:
    """:func:`ab_bucket` of one test for many users: the ``"{test_id}:"`` prefix is hashed
    once, and each user's bucket continues from a copy of that state (the same digest)."""

    __slots__ = ("_prefix", "test_id")

    def __init__(self, test_id: str) -> None:
        self.test_id = test_id
        self._prefix = hashlib.blake2b(f"{test_id}:".encode(), digest_size=8)

    def bucket(self, user_id: str) -> float:
        state = self._prefix.copy()
        state.update(user_id.encode())
        return (int.from_bytes(state.digest(), "big") >> 11) / _SCALE


def ab_group(test_id: str, user_id: str, probability_a: float) -> AbGroup:
    """``"A"`` with probability ``probability_a`` over users, the same answer every call."""
    probability_a = check_probability_a(probability_a)
    return "A" if ab_bucket(test_id, user_id) < probability_a else "B"
