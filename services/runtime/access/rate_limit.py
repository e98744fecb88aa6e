"""Rate limits per caller: `limit` requests a minute, as a token bucket that refills continuously,
so a caller may burst up to its limit and then goes at the steady rate. Pure and in memory: each
replica keeps its own buckets (a caller spread over N replicas gets at most N times its limit,
the usual trade-off of local limiting that needs no shared store on the request path).

The bucket is kept in its GCRA form: one number per caller, the time at which its bucket will be
full again. That is the same bucket with less arithmetic, which matters here: this runs on every
request, cached reads included."""

from __future__ import annotations

import math

WINDOW = 60.0  # seconds: limits are per minute
# Float sums of 1/limit minutes drift by far less than this; without it the last token of a
# burst could be refused.
_SLACK = 1e-6
_BURST = WINDOW + _SLACK

Header = tuple[bytes, bytes]
RawHeaders = list[Header]
# The one quota policy a caller has, by the name the RateLimit field refers to it.
POLICY = b'"default"'
# The RateLimit field is built from parts encoded once: formatting numbers into bytes costs
# more than the rest of a token's arithmetic. t is whole seconds up to the window.
_SECONDS = [b";t=%d" % s for s in range(int(WINDOW) + 2)]
# Past this many, a limit's encoded remainders are dropped and encoded again as they come.
_MAX_REMAINDERS = 4096


class RateLimiter:
    """Buckets keyed by caller identity; at most `max_callers` tracked. Full buckets are
    forgotten first (a full bucket is what an unknown caller gets anyway), then the callers
    tracked longest."""

    def __init__(self, max_callers: int = 100_000) -> None:
        self.max_callers = max_callers
        # identity -> time at which its bucket is full again; in the past means full.
        self._full_at: dict[str, float] = {}
        # limit -> the seconds between its tokens, its RateLimit-Policy field, and the start of
        # its RateLimit field by the requests remaining, worked out once.
        self._limits: dict[int, tuple[float, Header, dict[int, bytes]]] = {}

    def take(self, identity: str, limit: int, now: float) -> tuple[RawHeaders, int]:
        """Take one request's token. Returns the RateLimit-Policy and RateLimit header fields
        (draft-ietf-httpapi-ratelimit-headers-11) and the seconds until the caller may retry
        (Retry-After), 0 when this request is allowed. A tuple, not an object: building one
        would cost a noticeable share of a cached read."""
        interval, policy, remainders = self._limits.get(limit) or self._encode(limit)
        full_at = self._full_at.get(identity, now)
        if full_at < now:  # noqa: PLR1730 - max() is a call, and this runs on every request
            full_at = now
        after = full_at + interval
        if after - now <= _BURST:
            self._full_at[identity] = after
            if len(self._full_at) > self.max_callers:
                self._forget(now)
            drained, retry_after = after - now, 0
        else:
            drained, retry_after = full_at - now, max(1, math.ceil(after - now - WINDOW))
        # int() truncates, and both values are >= 0: r is the whole tokens left, t the whole
        # seconds until the bucket is full (`drained` rounded up).
        left = int(limit - drained / interval + _SLACK)
        state = remainders.get(left) or _remainder(remainders, left)
        return [policy, (b"ratelimit", state + _SECONDS[int(drained + 1 - _SLACK)])], retry_after

    def exhausted(self, identity: str, limit: int, now: float) -> bool:
        """Whether `identity` has no token left, without taking one: for a budget charged only
        after the answer is known (refused bearer tokens)."""
        interval = WINDOW / limit
        return self._full_at.get(identity, now) - now + interval > _BURST

    def _encode(self, limit: int) -> tuple[float, Header, dict[int, bytes]]:
        fixed = self._limits[limit] = (
            WINDOW / limit,
            (b"ratelimit-policy", POLICY + b";q=%d;w=60" % limit),
            {},
        )
        return fixed

    def _forget(self, now: float) -> None:
        tracked = {who: at for who, at in self._full_at.items() if at > now}
        if len(tracked) > self.max_callers:
            # Down to 90%, so that a table of active callers is swept once per many new
            # callers, not on each.
            for who in list(tracked)[: len(tracked) - self.max_callers * 9 // 10]:
                del tracked[who]
        self._full_at = tracked


def _remainder(remainders: dict[int, bytes], left: int) -> bytes:
    if len(remainders) >= _MAX_REMAINDERS:
        remainders.clear()
    encoded = remainders[left] = POLICY + b";r=%d" % left
    return encoded
