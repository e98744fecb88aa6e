"""Token buckets per caller: `limit` requests a minute, refilled continuously, so a caller may
burst up to its limit and then goes at the steady rate. Pure and in memory: each replica keeps
its own buckets (a caller spread over N replicas gets at most N times its limit, the usual
trade-off of local limiting that needs no shared store on the request path)."""

from __future__ import annotations

import math

WINDOW = 60.0  # seconds: limits are per minute


class Decision:
    """One request's verdict. What only the headers need is computed when they are asked for:
    this runs on every request, cached reads included."""

    __slots__ = ("allowed", "limit", "tokens")

    def __init__(self, allowed: bool, limit: int, tokens: float) -> None:
        self.allowed = allowed
        self.limit = limit
        self.tokens = tokens

    @property
    def remaining(self) -> int:
        return int(self.tokens)

    @property
    def reset(self) -> int:
        """Seconds until the bucket is full again (RateLimit-Reset)."""
        return math.ceil((self.limit - self.tokens) * WINDOW / self.limit)

    @property
    def retry_after(self) -> int:
        """Seconds until one more request is allowed (Retry-After); 0 when allowed."""
        if self.allowed:
            return 0
        return max(1, math.ceil((1.0 - self.tokens) * WINDOW / self.limit))

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The RateLimit header fields of draft-ietf-httpapi-ratelimit-headers (-07)."""
        return [
            (b"ratelimit-limit", b"%d" % self.limit),
            (b"ratelimit-remaining", b"%d" % self.tokens),
            (b"ratelimit-reset", b"%d" % self.reset),
            (b"ratelimit-policy", b"%d;w=60" % self.limit),
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
        return Decision(allowed, limit, tokens)
