"""The pure parts of the webhook sender: the URL policy at registration, the signature a
receiver verifies (one per secret during a rotation), the retry delays and the breaker; and its
client's connections, which go only to the public address they were checked against."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from services.runtime.messaging.webhooks import (
    Breaker,
    PublicAddressesOnly,
    Resolver,
    SenderSettings,
    UrlRefused,
    check_target,
    check_url,
    new_secret,
    public_address,
    retry_delay,
    signed_headers,
    webhook_client,
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


def answers(*rounds: list[str]) -> tuple[list[str], Resolver]:
    """A resolver answering `rounds` in turn (a name re-pointed between lookups), and the
    names it was asked for."""
    asked: list[str] = []
    left = list(rounds)

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return left.pop(0)

    return asked, resolve


@pytest.mark.parametrize(
    "addresses",
    [["127.0.0.1"], ["93.184.215.14", "10.1.2.3"], ["::1"], ["fd00::5"], ["169.254.169.254"], []],
)
async def test_a_name_with_any_private_address_is_refused(addresses: list[str]) -> None:
    _, resolve = answers(addresses)
    with pytest.raises(UrlRefused):
        await public_address("partner.example", 443, resolve)


class Recording(httpcore.AsyncNetworkBackend):
    """The network below the check: records where it was asked to connect, connects nowhere."""

    def __init__(self) -> None:
        self.connected: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ARG002 - the interface's
        local_address: str | None = None,  # noqa: ARG002
        socket_options: Iterable[Any] | None = None,  # noqa: ARG002
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append((host, port))
        raise httpcore.ConnectError("not in a unit test")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def test_a_connection_goes_to_the_address_checked_never_to_a_second_lookup() -> None:
    # DNS rebinding: public when checked, private a moment later. One lookup per connection,
    # and the socket is opened to the address of that lookup.
    asked, resolve = answers(["93.184.215.14"], ["127.0.0.1"])
    network = Recording()
    backend = PublicAddressesOnly(network, resolve)
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("partner.example", 443)
    assert asked == ["partner.example"]
    assert network.connected == [("93.184.215.14", 443)]
    # The next connection looks again, and the name now points inside: nothing is opened.
    with pytest.raises(UrlRefused):
        await backend.connect_tcp("partner.example", 443)
    assert network.connected == [("93.184.215.14", 443)]


async def test_the_webhook_client_reaches_no_private_address_whatever_the_url_says() -> None:
    # A real listener on loopback, named by a literal and by a name that resolves to it.
    reached: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reached.append(await reader.read(100))
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with webhook_client(2.0, allow_private=False) as client:
            for url in (f"http://127.0.0.1:{port}/hook", f"http://localhost:{port}/hook"):
                with pytest.raises(UrlRefused, match="private or reserved"):
                    await client.post(url, content=b"{}")
        async with webhook_client(2.0, allow_private=True) as client:
            # The local stack's flag lets the same request through.
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post(f"http://127.0.0.1:{port}/hook", content=b"{}")
    finally:
        server.close()
        await server.wait_closed()
    assert len(reached) == 1


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
