"""The logs' time-ordered ids (RFC 9562 version 7)."""

from __future__ import annotations

import uuid

from recostack.serving.log_ids import log_id


def test_an_id_is_a_version_7_uuid_stamped_with_its_millisecond() -> None:
    now_ns = 1_765_000_000_123_456_789  # 2025-12-06T05:46:40.123456789Z
    value = uuid.UUID(log_id(now_ns))
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == 1_765_000_000_123  # the first 48 bits: Unix time in ms


def test_ids_sort_by_time_as_text() -> None:
    start = 1_765_000_000_000 * 1_000_000
    ids = [log_id(start + step * 1_000_000) for step in range(0, 5000, 7)]
    assert ids == sorted(ids)
    assert all(len(i) == 36 for i in ids)  # fits the logs' String(36) keys


def test_ids_made_in_one_millisecond_differ() -> None:
    now_ns = 1_765_000_000_000 * 1_000_000
    ids = {log_id(now_ns) for _ in range(10_000)}
    assert len(ids) == 10_000


def test_the_clock_stamps_an_id_by_default() -> None:
    import time

    before = time.time_ns() // 1_000_000
    stamped = uuid.UUID(log_id()).int >> 80
    assert before <= stamped <= time.time_ns() // 1_000_000
