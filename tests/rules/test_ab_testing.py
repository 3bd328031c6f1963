from __future__ import annotations

import hashlib

import numpy as np
import pytest

from recostack.errors import Invalid
from recostack.rules import ab_bucket, ab_group, check_probability_a

USERS = [f"user-{i}" for i in range(100_000)]


def test_group_shares_over_100k_users_are_within_one_percent() -> None:
    buckets = np.array([ab_bucket("id123", user) for user in USERS])
    assert ((buckets >= 0) & (buckets < 1)).all()
    for probability_a in (0.05, 0.3333, 0.5, 0.9):
        share_a = float((buckets < probability_a).mean())
        assert abs(share_a - probability_a) < 0.01, (probability_a, share_a)
    groups = [ab_group("id123", user, 0.3333) for user in USERS[:20_000]]
    assert groups == ["A" if b < 0.3333 else "B" for b in buckets[:20_000]]


def test_same_user_same_group_every_call_and_every_process() -> None:
    assert {ab_group("t1", "alice", 0.5) for _ in range(10)} == {ab_group("t1", "alice", 0.5)}
    # Pinned: the assignment must never change between versions, processes or machines.
    assert ab_bucket("id123", "alice") == 0.006545249449512847
    assert ab_bucket("id123", "bob") == 0.9804162836074426
    digest = hashlib.blake2b(b"id123:bob", digest_size=8).digest()
    assert ab_bucket("id123", "bob") == (int.from_bytes(digest, "big") >> 11) / 2**53


def test_extremes_and_monotonicity() -> None:
    assert all(ab_group("t", u, 1.0) == "A" for u in USERS[:1000])
    assert all(ab_group("t", u, 0.0) == "B" for u in USERS[:1000])
    for user in USERS[:1000]:  # raising probability_a only moves users from B to A
        if ab_group("t", user, 0.3) == "A":
            assert ab_group("t", user, 0.6) == "A"


def test_tests_are_independent() -> None:
    both = sum(
        ab_group("t1", u, 0.5) == "A" and ab_group("t2", u, 0.5) == "A" for u in USERS[:20_000]
    )
    assert abs(both / 20_000 - 0.25) < 0.02


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan"), float("inf"), "0.5", None, True])
def test_probability_a_must_be_in_zero_one(bad: object) -> None:
    with pytest.raises(Invalid) as raised:
        ab_group("t", "u", bad)  # type: ignore[arg-type]
    assert raised.value.field == "probability_a"


def test_check_probability_a_accepts_ints() -> None:
    assert check_probability_a(1) == 1.0
    assert check_probability_a(0) == 0.0
