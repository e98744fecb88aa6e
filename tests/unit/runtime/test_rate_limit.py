"""Token buckets: a burst up to the limit, then the steady rate; headers say where a caller is."""

from __future__ import annotations

from services.runtime.rate_limit import RateLimiter


def test_a_caller_may_burst_to_its_limit_then_is_refused_with_a_retry_time() -> None:
    limiter = RateLimiter()
    decisions = [limiter.take("site-a", 3, now=100.0) for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    # 3 a minute: one token every 20 s.
    assert decisions[-1].retry_after == 20
    assert decisions[-1].reset == 60


def test_tokens_come_back_at_the_steady_rate() -> None:
    limiter = RateLimiter()
    for _ in range(60):
        assert limiter.take("site-a", 60, now=0.0).allowed
    assert not limiter.take("site-a", 60, now=0.5).allowed
    assert limiter.take("site-a", 60, now=1.0).allowed
    assert not limiter.take("site-a", 60, now=1.0).allowed


def test_callers_have_buckets_of_their_own() -> None:
    limiter = RateLimiter()
    assert limiter.take("site-a", 1, now=0.0).allowed
    assert not limiter.take("site-a", 1, now=0.0).allowed
    assert limiter.take("site-b", 1, now=0.0).allowed


def test_the_idlest_caller_is_forgotten_when_too_many_are_tracked() -> None:
    limiter = RateLimiter(max_callers=2)
    limiter.take("a", 1, now=0.0)
    limiter.take("b", 1, now=0.0)
    limiter.take("c", 1, now=0.0)

    # "a" was dropped, so it starts with a full bucket; "c" is still tracked and empty.
    assert limiter.take("a", 1, now=0.0).allowed
    assert not limiter.take("c", 1, now=0.0).allowed


def test_headers_follow_the_ratelimit_draft() -> None:
    decision = RateLimiter().take("site-a", 100, now=0.0)
    assert dict(decision.headers()) == {
        b"ratelimit-limit": b"100",
        b"ratelimit-remaining": b"99",
        b"ratelimit-reset": b"1",
        b"ratelimit-policy": b"100;w=60",
    }
