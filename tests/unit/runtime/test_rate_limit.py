"""Token buckets: a burst up to the limit, then the steady rate; headers say where a caller is."""

from __future__ import annotations

from services.runtime.access.rate_limit import RateLimiter


def _allowed(limiter: RateLimiter, who: str, limit: int, now: float) -> bool:
    return limiter.take(who, limit, now)[1] == 0


def test_a_caller_may_burst_to_its_limit_then_is_refused_with_a_retry_time() -> None:
    limiter = RateLimiter()
    decisions = [limiter.take("site-a", 3, now=100.0) for _ in range(4)]

    assert [retry for _, retry in decisions] == [0, 0, 0, 20]  # 3 a minute: a token every 20 s
    assert [dict(h)[b"ratelimit"] for h, _ in decisions] == [
        b'"default";r=2;t=20',
        b'"default";r=1;t=40',
        b'"default";r=0;t=60',
        b'"default";r=0;t=60',
    ]


def test_tokens_come_back_at_the_steady_rate() -> None:
    limiter = RateLimiter()
    for _ in range(60):
        assert _allowed(limiter, "site-a", 60, now=0.0)
    assert not _allowed(limiter, "site-a", 60, now=0.5)
    assert _allowed(limiter, "site-a", 60, now=1.0)
    assert not _allowed(limiter, "site-a", 60, now=1.0)


def test_a_burst_of_a_limit_that_does_not_divide_a_minute_is_whole() -> None:
    limiter = RateLimiter()
    assert all(_allowed(limiter, "site-a", 7, now=5.0) for _ in range(7))
    assert not _allowed(limiter, "site-a", 7, now=5.0)


def test_callers_have_buckets_of_their_own() -> None:
    limiter = RateLimiter()
    assert _allowed(limiter, "site-a", 1, now=0.0)
    assert not _allowed(limiter, "site-a", 1, now=0.0)
    assert _allowed(limiter, "site-b", 1, now=0.0)


def test_full_buckets_are_forgotten_first_when_too_many_callers_are_tracked() -> None:
    limiter = RateLimiter(max_callers=2)
    limiter.take("idle", 60, now=0.0)  # full again one second later
    limiter.take("b", 1, now=10.0)
    limiter.take("c", 1, now=10.0)

    # Only "idle" was forgotten; "b" and "c" are still tracked and empty.
    assert not _allowed(limiter, "b", 1, now=10.0)
    assert not _allowed(limiter, "c", 1, now=10.0)


def test_the_longest_tracked_callers_are_forgotten_when_no_bucket_is_full() -> None:
    limiter = RateLimiter(max_callers=2)
    limiter.take("a", 1, now=0.0)
    limiter.take("b", 1, now=0.0)
    limiter.take("c", 1, now=0.0)

    # "a" was dropped, so it starts with a full bucket; "c" is still tracked and empty.
    assert _allowed(limiter, "a", 1, now=0.0)
    assert not _allowed(limiter, "c", 1, now=0.0)


def test_headers_follow_the_ratelimit_draft() -> None:
    limiter = RateLimiter()
    headers, retry_after = limiter.take("site-a", 100, now=0.0)
    assert retry_after == 0
    assert headers == [
        (b"ratelimit-policy", b'"default";q=100;w=60'),
        (b"ratelimit", b'"default";r=99;t=1'),
    ]
    # Half a minute later the bucket is full again: t counts down to it, never below 1.
    later, _ = limiter.take("site-a", 100, now=30.0)
    assert dict(later)[b"ratelimit"] == b'"default";r=99;t=1'
    drained = [limiter.take("site-a", 100, now=30.0)[0] for _ in range(50)]
    assert dict(drained[-1])[b"ratelimit"] == b'"default";r=49;t=31'
