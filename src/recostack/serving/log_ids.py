"""Ids of the prediction and response logs: time-ordered UUIDs (version 7, RFC 9562).

A log record's id is a key of the log's indexes (the prediction log's primary
key, the response log's primary key and its index of request ids). Random
ids (version 4) land each new record on a random leaf page of indexes that
grow all day: once an index is past the database's page cache, every insert
reads a leaf of its own and writes it whole to the write-ahead log, so the
cost of a record grows with the log. An id that starts with the time in
milliseconds lands beside the last one, on the few pages at the index's
right edge, at a cost that does not grow. ``bench/log_growth.py`` measures
both on SQLite.

The layout is RFC 9562's version 7: 48 bits of Unix time in milliseconds,
the version, 74 random bits and the variant; the text form sorts by time.
The random bits come from a generator seeded once by the OS, not from
``os.urandom`` per id (as ``uuid.uuid4()`` does): that call releases the
GIL on every request, and the background threads (the log writers) take it
for up to a switch interval (5 ms) each time, measured in
``bench/deployment.py`` as the deployment path's tail. An id only names an
answer or a response (a response still needs a recommend key); it guards
nothing.
"""

from __future__ import annotations

import os
import random
import time

__all__ = ["log_id"]

_RANDOM = random.Random(os.urandom(32))
_VERSION_BITS = 0xF << 76
_VARIANT_BITS = 0x3 << 62


def log_id(now_ns: int | None = None) -> str:
    """A new time-ordered id (``now_ns``: the time to stamp, nanoseconds since the epoch;
    the clock's by default)."""
    millis = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | _RANDOM.getrandbits(80)
    value = value & ~_VERSION_BITS | 0x7 << 76
    value = value & ~_VARIANT_BITS | 0x2 << 62
    # str(uuid.UUID(int=value)), without building the object (a request's id is made on
    # every answer: 3 % of an online answer's time in bench/bandit.py)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
