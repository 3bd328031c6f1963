"""A request-rate limit per API key: a token bucket for each key.

Each key may make ``rate`` requests per second on average and ``burst`` at
once. :class:`LocalBuckets` keeps the buckets in this process (with several
API processes, each one allows the rate); :class:`RedisBuckets` keeps them in
Redis, shared by every process, with one atomic script per request, and
falls back to this process's buckets while Redis cannot be reached (a limit
is not a reason to refuse service).

A bucket is named by the key's slot (``admin/primary``), never by the key.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["LocalBuckets", "RateLimiter", "RedisBuckets", "rate_limiter"]

logger = logging.getLogger(__name__)

#: how long a Redis outage is logged as one (seconds)
_WARN_EVERY = 60.0

#: refill then take one token, atomically; returns {allowed (0/1), seconds to wait (text)}
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""


class LocalBuckets:
    """Token buckets in this process."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take_now(self, name: str) -> float:
        """Take one request from ``name``'s bucket: 0 if allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(name, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
            if tokens >= 1:
                self._buckets[name] = (tokens - 1, now)
                return 0.0
            self._buckets[name] = (tokens, now)
            return (1 - tokens) / self.rate

    async def take(self, name: str) -> float:
        return self.take_now(name)


class RedisBuckets:
    """Token buckets in Redis, shared by every API process (``redis_url``)."""

    def __init__(self, url: str, rate: float, burst: int, *, prefix: str = "recostack") -> None:
        import redis.asyncio as redis

        self.rate = rate
        self.burst = burst
        self._prefix = f"{prefix}:rate:"
        self._client: Any = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._script = self._client.register_script(_TAKE)
        self._fallback = LocalBuckets(rate, burst)
        self._warned_at = -math.inf

    async def take(self, name: str) -> float:
        try:
            allowed, wait = await self._script(
                keys=[self._prefix + name], args=[self.rate, self.burst]
            )
        except Exception as exc:  # Redis unreachable: this process's buckets hold the line
            now = time.monotonic()
            if now - self._warned_at > _WARN_EVERY:
                self._warned_at = now
                logger.warning("rate limit: Redis is unavailable (%s); limiting per process", exc)
            return self._fallback.take_now(name)
        return 0.0 if int(allowed) else float(wait)

    async def close(self) -> None:
        await self._client.aclose()


RateLimiter = LocalBuckets | RedisBuckets


def rate_limiter(
    rate: float, burst: int, redis_url: str, namespace: str = "recostack"
) -> RateLimiter | None:
    """The limiter the settings ask for (``rate`` 0: none; ``burst`` 0: one second's worth);
    in Redis, the buckets' names start with ``namespace``."""
    if rate <= 0:
        return None
    burst = burst or max(1, math.ceil(rate))
    if redis_url:
        return RedisBuckets(redis_url, rate, burst, prefix=namespace)
    return LocalBuckets(rate, burst)
