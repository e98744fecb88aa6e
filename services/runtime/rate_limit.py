"""Token buckets per caller: `limit` requests a minute, refilled continuously, so a caller may
burst up to its limit and then goes at the steady rate. Pure and in memory: each replica keeps
its own buckets (a caller spread over N replicas gets at most N times its limit, the usual
trade-off of local limiting that needs no shared store on the request path)."""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW = 60.0  # seconds: limits are per minute


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    # Seconds until the bucket is full again (RateLimit-Reset).
    reset: int
    # Seconds until one more request is allowed (Retry-After), 0 when allowed.
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The RateLimit header fields of draft-ietf-httpapi-ratelimit-headers (-07)."""
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset).encode()),
            (b"ratelimit-policy", f"{self.limit};w={int(WINDOW)}".encode()),
        ]


class RateLimiter:
    """Buckets keyed by caller identity; at most `max_callers` tracked, the idlest dropped first
    (a dropped bucket would have refilled anyway, so forgetting it grants nothing extra)."""

    def __init__(self, max_callers: int = 100_000) -> None:
        self.max_callers = max_callers
        # identity -> (tokens, time of last update); dict order doubles as recency order.
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, identity: str, limit: int, now: float) -> Decision:
        rate = limit / WINDOW
        tokens, seen = self._buckets.pop(identity, (float(limit), now))
        tokens = min(float(limit), tokens + (now - seen) * rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[identity] = (tokens, now)
        if len(self._buckets) > self.max_callers:
            del self._buckets[next(iter(self._buckets))]
        return Decision(
            allowed=allowed,
            limit=limit,
            remaining=int(tokens),
            reset=math.ceil((limit - tokens) / rate),
            retry_after=0 if allowed else max(1, math.ceil((1.0 - tokens) / rate)),
        )
