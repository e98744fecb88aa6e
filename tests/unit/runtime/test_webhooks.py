"""The pure parts of the webhook sender: the URL policy at registration, the signature a
receiver verifies (one per secret during a rotation), the retry delays and the breaker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from services.runtime.messaging.webhooks import (
    Breaker,
    SenderSettings,
    UrlRefused,
    check_target,
    check_url,
    new_secret,
    retry_delay,
    signed_headers,
)


@pytest.mark.parametrize(
    "url",
    [
        "http://partner.example/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://192.168.1.20:8443/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://user:pw@partner.example/hook",
        "https://partner.example/hook#frag",
        "ftp://partner.example/hook",
        "partner.example/hook",
    ],
)
def test_urls_outside_the_policy_are_refused_in_production(url: str) -> None:
    with pytest.raises(UrlRefused):
        check_url(url, allow_private=False)


def test_https_to_a_public_name_passes_and_the_flag_allows_local_ones() -> None:
    assert check_url("https://partner.example/carebridge", allow_private=False)
    assert check_url("http://127.0.0.1:8090/carebridge", allow_private=True)
    with pytest.raises(UrlRefused):
        check_url("ftp://127.0.0.1/x", allow_private=True)


async def test_at_send_time_an_address_literal_is_checked_again() -> None:
    with pytest.raises(UrlRefused):
        await check_target("https://127.0.0.1/hook", allow_private=False)
    await check_target("http://127.0.0.1/hook", allow_private=True)


def test_each_valid_secret_signs_so_either_side_of_a_rotation_verifies() -> None:
    old, new, stranger = new_secret(), new_secret(), new_secret()
    body = b'{"type":"offer_withdrawn"}'
    headers = signed_headers((new, old), "msg-1", datetime.now(UTC), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == {"type": "offer_withdrawn"}
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body + b" ", headers)


def test_retry_delays_grow_with_jitter_up_to_the_cap() -> None:
    settings = SenderSettings(retry_first=1.0, retry_cap=8.0)
    for attempt, full in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)):
        delays = [retry_delay(attempt, settings) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays), (attempt, delays)
        assert len(set(delays)) > 1


def test_the_breaker_opens_after_consecutive_failures_and_a_success_closes_it() -> None:
    breaker = Breaker(failures=3, cooldown=30.0)
    for now in (0.0, 1.0):
        breaker.failed("p", now)
    assert breaker.open_until("p", 2.0) is None
    breaker.failed("p", 2.0)
    assert breaker.open_until("p", 3.0) == 32.0
    assert breaker.open_until("other", 3.0) is None
    # After the cooldown one attempt goes through; its success closes the breaker.
    assert breaker.open_until("p", 33.0) is None
    breaker.succeeded("p")
    breaker.failed("p", 34.0)
    assert breaker.open_until("p", 35.0) is None
