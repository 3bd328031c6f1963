"""Mergeable summaries of many requests: a latency histogram and a distinct-user sketch.

Both add up across processes and intervals without the raw records, which
is what lets statistics over time come from rollups:

- :class:`LatencyHistogram`: counts in ``BUCKETS`` geometric buckets from
  0.01 ms to 100 s (each 13 % wider than the previous one), so a percentile
  read from it is within about 7 % of the exact one; merged by adding.
- :class:`UserSketch`: a HyperLogLog of 2**10 registers over a CRC-32 of each
  id (stable across processes, unlike ``hash``), about 3 % relative error,
  exact-ish for small counts (linear counting); merged by taking maxima.

Each encodes to compact bytes (zlib of the dense array) for the store.

>>> h = LatencyHistogram()
>>> h.add_many([1.0, 2.0, 3.0, 100.0])
>>> round(h.percentile(0.5), 1), h.count
(2.0, 4)
>>> s = UserSketch()
>>> s.add_many(["a", "b", "c", "a"])
>>> s.estimate()
3
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable

import numpy as np

__all__ = ["BUCKETS", "LatencyHistogram", "UserSketch"]

#: latency buckets: geometric edges from 0.01 ms to 100 s
BUCKETS = 128
_LOW_MS, _HIGH_MS = 0.01, 100_000.0
_EDGES = np.geomspace(_LOW_MS, _HIGH_MS, BUCKETS - 1)  # bucket i holds values < _EDGES[i]
#: the value a bucket stands for: the geometric middle of its edges
_MIDDLES = np.concatenate(([_LOW_MS], np.sqrt(_EDGES[:-1] * _EDGES[1:]), [_HIGH_MS])).astype(
    np.float64
)

_P = 10
_M = 1 << _P
_ALPHA = 0.7213 / (1 + 1.079 / _M)


def _decode(data: bytes | None, dtype: type[np.generic], size: int) -> np.ndarray:
    if not data:
        return np.zeros(size, dtype=dtype)
    array = np.frombuffer(zlib.decompress(data), dtype=dtype)
    if array.shape[0] != size:
        raise ValueError(f"a sketch of {array.shape[0]} values, expected {size}")
    return array.copy()


class LatencyHistogram:
    """Counts of latencies (milliseconds) by geometric bucket."""

    __slots__ = ("counts", "total_ms")

    def __init__(self, counts: np.ndarray | None = None, total_ms: float = 0.0) -> None:
        self.counts = np.zeros(BUCKETS, np.int64) if counts is None else counts
        self.total_ms = total_ms

    @classmethod
    def decode(cls, data: bytes | None, total_ms: float = 0.0) -> LatencyHistogram:
        return cls(_decode(data, np.int64, BUCKETS), total_ms)

    def encode(self) -> bytes:
        return zlib.compress(self.counts.astype("<i8").tobytes(), 1)

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    def add_many(self, latencies_ms: Iterable[float] | np.ndarray) -> None:
        values = np.asarray(latencies_ms, dtype=np.float64)
        if values.size == 0:
            return
        self.counts += np.bincount(np.searchsorted(_EDGES, values, side="right"), minlength=BUCKETS)
        self.total_ms += float(values.sum())

    def merge(self, other: LatencyHistogram) -> None:
        self.counts += other.counts
        self.total_ms += other.total_ms

    def percentile(self, q: float) -> float | None:
        """The latency under which a share ``q`` (0..1) of requests fell (``None``: none)."""
        total = self.counts.sum()
        if total == 0:
            return None
        rank = max(1, math.ceil(q * total))
        bucket = int(np.searchsorted(np.cumsum(self.counts), rank))
        return float(_MIDDLES[bucket])

    def mean(self) -> float | None:
        total = self.count
        return self.total_ms / total if total else None


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finaliser on 32-bit values held in uint64."""
    mask = np.uint64(0xFFFFFFFF)
    h = h ^ (h >> np.uint64(16))
    h = (h * np.uint64(0x85EBCA6B)) & mask
    h = h ^ (h >> np.uint64(13))
    h = (h * np.uint64(0xC2B2AE35)) & mask
    return h ^ (h >> np.uint64(16))


def _crc(value: str) -> int:
    return zlib.crc32(value.encode("utf-8", "surrogatepass"))


class UserSketch:
    """A HyperLogLog of user ids."""

    __slots__ = ("registers",)

    def __init__(self, registers: np.ndarray | None = None) -> None:
        self.registers = np.zeros(_M, np.uint8) if registers is None else registers

    @classmethod
    def decode(cls, data: bytes | None) -> UserSketch:
        return cls(_decode(data, np.uint8, _M))

    def encode(self) -> bytes:
        return zlib.compress(self.registers.tobytes(), 1)

    def add_many(self, ids: Iterable[str]) -> None:
        hashes = np.fromiter((_crc(i) for i in set(ids)), dtype=np.uint64)
        if hashes.size == 0:
            return
        hashes = _fmix32(hashes)  # CRC-32 is linear: mix its bits over the registers
        index = (hashes >> np.uint64(32 - _P)).astype(np.int64)
        rest = hashes & np.uint64((1 << (32 - _P)) - 1)
        # rank: the position of the first 1 bit in the remaining 22 bits, 23 when all are 0
        width = 32 - _P
        bits = np.floor(np.log2(np.maximum(rest, 1).astype(np.float64))).astype(np.int64)
        rank = np.where(rest == 0, width + 1, width - bits).astype(np.uint8)
        np.maximum.at(self.registers, index, rank)

    def merge(self, other: UserSketch) -> None:
        np.maximum(self.registers, other.registers, out=self.registers)

    def estimate(self) -> int:
        registers = self.registers.astype(np.float64)
        raw = _ALPHA * _M * _M / float(np.sum(np.power(2.0, -registers)))
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * _M and zeros:
            return round(_M * math.log(_M / zeros))  # linear counting for small sets
        return round(raw)
