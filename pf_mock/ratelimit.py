"""Rate limits (``--rate-limit N``): a token bucket per key, counted on the mock clock.

Each key has a bucket of ``N`` requests that refills at ``N`` per minute of mock time, so a client may burst ``N`` requests and then keep up ``N`` a
minute; on a manual clock, ``POST /_mock/clock/advance`` refills it and no test has to wait. Every
answer (``/_mock`` aside) carries ``X-RateLimit-Limit`` (N), ``X-RateLimit-Remaining`` (whole requests
left) and ``X-RateLimit-Reset`` (unix seconds, mock clock, rounded up, when the bucket is full again). A
request that finds the bucket empty is answered 429 ``rate_limited`` with ``retry_after_seconds`` and
``Retry-After`` (whole seconds, rounded up, until one request is allowed) and does not reach the
exchange; it does not use up anything. Off by default: no bucket, no headers.

Whose bucket: a request whose key is an agent's (``Exchange.agent_for_key``) draws on that key's; every
other request (no key, a malformed or unknown one, a key that is only about to provision an agent) draws
on its client address's, so sending a new string with every request dodges nothing. The buckets are a
dict in least-recently-used order (``OrderedDict``): found in O(1), and at most ``MAX_KEYS`` of them; a new
key past that replaces the least recently used, which has had the longest to refill.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from .errors import ApiError, is_whole

# Levels are kept in 1/60ths of a request: a request costs 60 and a bucket of N refills N per second,
# so whole seconds of mock time refill whole numbers exactly.
COST = 60
MAX_KEYS = 10_000       # at most this many buckets; past it the least recently used one goes


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int          # whole requests left after this one
    reset_at: int           # unix seconds (mock clock) when the bucket is full again
    retry_after: int        # whole seconds until a request is allowed (0 when this one was)

    def refusal(self) -> ApiError:
        """The answer to a request that found its bucket empty."""
        return ApiError(429, "rate_limited", f"Rate limit of {self.limit} requests per minute reached; retry in "
                        f"{self.retry_after} s.", retry_after_seconds=self.retry_after)


class RateLimiter:
    """Token buckets, one per key: capacity ``per_minute``, refilling ``per_minute`` a minute."""

    def __init__(self, per_minute: int, max_keys: int = MAX_KEYS):
        if not (is_whole(per_minute) and per_minute >= 1):
            raise ValueError("the rate limit must be a whole number of requests per minute, 1 or more")
        self.per_minute = per_minute
        self.capacity = per_minute * COST
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()   # key -> (level, at), oldest use first

    def clear(self) -> None:
        self._buckets.clear()

    def level(self, key: str, now: float) -> float:
        """The bucket's level at ``now`` in 1/60ths of a request (a clock that went back refills nothing)."""
        level, at = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, level + max(0.0, now - at) * self.per_minute)

    def take(self, key: str, now: float) -> Verdict:
        """Spend one request from ``key``'s bucket at ``now`` if it holds one."""
        level = self.level(key, now)
        allowed = level >= COST
        buckets = self._buckets
        if key in buckets:
            buckets.move_to_end(key)        # asked for, allowed or not: the most recently used
        if allowed:
            level -= COST
            if key not in buckets and len(buckets) >= self.max_keys:
                buckets.popitem(last=False)
            buckets[key] = (level, now)
        retry_after = 0 if allowed else math.ceil((COST - level) / self.per_minute)
        reset_at = math.ceil(now + (self.capacity - level) / self.per_minute)
        return Verdict(allowed, self.per_minute, int(level // COST), reset_at, retry_after)

    def __len__(self) -> int:
        return len(self._buckets)
