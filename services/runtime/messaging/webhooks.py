"""Webhooks out, as Standard Webhooks (https://www.standardwebhooks.com): the message's JSON body
as it travels on NATS, with `webhook-id`, `webhook-timestamp` and `webhook-signature` headers
made by the `standardwebhooks` package.

Like the outbox, a delivery is a row (`webhook_deliveries`) written in the transaction of the
change it announces (`enqueue`); the `Sender` loop posts due rows and deletes them once the
endpoint answered 2xx. A failed attempt (non-2xx, timeout, connection error, an address the
policy refuses) is tried again after an exponential delay with jitter, until the message's own
deadline (an offer's `respond_by`): then it is given up and counted. A circuit breaker per
endpoint stops hammering one that keeps failing. Redirects are not followed and the endpoint's
answer is never read beyond its status.

The service says which endpoint a row goes to (`Endpoints`: a partner id, a site's name), and
resolves it at send time to a URL and its signing secrets, so a rotated secret or a changed URL
applies to what is still waiting."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import random
import secrets
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
import msgspec
import structlog
from standardwebhooks import Webhook

from services.runtime.core.db import Connection, Pool
from services.runtime.core.pacing import Backoff, wait_any
from services.runtime.messaging.outbox import OUTAGES
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

log = structlog.get_logger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's marker, not a secret
# What a delivery attempt ended in, the label of the `webhook_deliveries` counter.
DELIVERED, FAILED, GIVEN_UP, REFUSED, BREAKER_OPEN, DROPPED = (
    "delivered",
    "failed",
    "given_up",
    "refused",
    "breaker_open",
    "dropped",
)


def new_secret() -> str:
    """A signing secret as Standard Webhooks spells it: `whsec_` and 32 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(signing_secrets: Sequence[str], message_id: str, at: datetime, body: bytes) -> str:
    """The `webhook-signature` value: one `v1,` signature per secret, space-separated, so a
    receiver holding either the old or the new secret of a rotation verifies it."""
    return " ".join(Webhook(s).sign(message_id, at, body) for s in signing_secrets)


def signed_headers(
    signing_secrets: Sequence[str], message_id: str, at: datetime, body: bytes
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(signing_secrets, message_id, at, body),
    }


class UrlRefused(ValueError):
    """A webhook URL the policy does not allow; the message says why."""


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL's form, at registration: https with a host (http too, and literal private
    addresses, only when `allow_private`); no credentials or fragment in it. Returns the URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UrlRefused("must be an absolute https:// URL")
    if parts.scheme != "https" and not allow_private:
        raise UrlRefused("must use https")
    if parts.username or parts.password or parts.fragment:
        raise UrlRefused("must carry no user, password or fragment")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None and not allow_private and not literal.is_global:
        raise UrlRefused(f"names a private or reserved address ({literal})")
    if parts.hostname == "localhost" and not allow_private:
        raise UrlRefused("names a private or reserved address (localhost)")
    return url


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def _resolve(host: str, port: int) -> list[str]:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UrlRefused(f"host does not resolve ({exc.strerror})") from exc
    return [str(address[0]) for *_, address in found]


async def public_address(host: str, port: int, resolve: Resolver = _resolve) -> str:
    """The address to connect to for `host`: resolved once, and refused unless every address
    the name has is a public one (a name may point somewhere else than at registration)."""
    addresses = await resolve(host, port)
    if not addresses:
        raise UrlRefused("host does not resolve")
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not ip.is_global:
            raise UrlRefused(f"resolves to a private or reserved address ({ip})")
    return addresses[0]


async def check_target(url: str, *, allow_private: bool) -> None:
    """The URL's form, and (outside `allow_private`) the addresses its host has now."""
    check_url(url, allow_private=allow_private)
    if allow_private:
        return
    parts = urlsplit(url)
    await public_address(parts.hostname or "", parts.port or 443)


class PublicAddressesOnly(httpcore.AsyncNetworkBackend):
    """The network under the webhook client: each new connection resolves its host here,
    refuses it unless every address is public, and connects to the very address it checked.
    Checking first and letting the client resolve again would leave a window in which a name
    re-pointed at a private address (DNS rebinding) is reached. TLS still verifies the
    certificate against the URL's host name (the connection pool's origin), and pooled
    connections are kept per host name, so each one was checked when it was opened."""

    def __init__(
        self, inner: httpcore.AsyncNetworkBackend | None = None, resolve: Resolver = _resolve
    ) -> None:
        self.inner = inner or httpcore.AnyIOBackend()
        self.resolve = resolve

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        async with asyncio.timeout(timeout):
            address = await public_address(host, port, self.resolve)
        return await self.inner.connect_tcp(
            address,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def webhook_client(timeout: float, *, allow_private: bool) -> httpx.AsyncClient:
    """The client that posts webhooks: no redirects, no proxy or .netrc from the environment
    (the policy checks the real target) and, outside `allow_private`, connections only to the
    public addresses they were checked against."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    if not allow_private:
        # httpx takes no network backend of its own; its transport wraps an httpcore pool,
        # which does. Same pool settings as httpx's defaults.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=PublicAddressesOnly(),
        )
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
    )


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """Where an endpoint's messages go, and the secrets that sign them (newest first)."""

    url: str
    secrets: tuple[str, ...]


# The service's endpoints: the URL and secrets of an endpoint name, None when it is gone (the
# partner deregistered, the site removed its hook): its waiting messages are dropped.
Endpoints = Callable[[Connection, str], Awaitable[Target | None]]


def _aad(delivery_id: uuid.UUID) -> bytes:
    return f"webhook:{delivery_id}:payload".encode()


async def enqueue(
    conn: Connection,
    *,
    endpoint: str,
    message_id: str,
    payload: bytes,
    deliver_by: datetime,
    now: datetime,
    keys: KeyRing | None = None,
    erasure_key: str | None = None,
) -> None:
    """Queue `payload` for `endpoint` in the caller's transaction, sealed with `keys` when
    given (a message naming a person); `erasure_key` lets erasure withdraw it (`retract`)."""
    delivery_id = uuid.uuid4()
    stored = payload if keys is None else to_column(keys.encrypt(payload, aad=_aad(delivery_id)))
    await conn.execute(
        """INSERT INTO webhook_deliveries
               (id, endpoint, message_id, payload, sealed, erasure_key, deliver_by,
                next_attempt_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)""",
        delivery_id,
        endpoint,
        message_id,
        stored,
        keys is not None,
        erasure_key,
        deliver_by,
        now,
    )


async def retract(conn: Connection, erasure_key: str) -> int:
    """In the erasing transaction: undelivered messages that name the person are not sent."""
    deleted = await conn.fetch(
        "DELETE FROM webhook_deliveries WHERE erasure_key = $1 RETURNING id", erasure_key
    )
    return len(deleted)


async def pending(conn: Connection, endpoint: str | None = None) -> int:
    """Messages waiting for `endpoint` (for every endpoint when None)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE $1::text IS NULL OR endpoint = $1",
            endpoint,
        )
    )


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    endpoint: str
    message_id: str
    payload: bytes
    sealed: bool
    deliver_by: datetime
    attempts: int

    def body(self, keys: KeyRing | None) -> bytes:
        if not self.sealed:
            return self.payload
        if keys is None:
            raise RuntimeError("a sealed webhook needs the service's key ring to be sent")
        return keys.decrypt(from_column(self.payload), aad=_aad(self.id))


class SenderSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How the sender behaves; each service reads these from its own settings."""

    allow_private: bool = False
    # Seconds an attempt may take, connecting and answering together.
    timeout: float = 5.0
    # Delay before the second attempt, doubling up to `retry_cap`, each drawn down by jitter.
    retry_first: float = 1.0
    retry_cap: float = 300.0
    # Consecutive failures that open an endpoint's breaker, and seconds it stays open.
    breaker_failures: int = 10
    breaker_cooldown: float = 30.0
    interval: float = 0.25
    batch: int = 50


class Breaker:
    """Per endpoint: `failures` consecutive failed attempts open it for `cooldown` seconds;
    then one attempt goes through, and its success closes it. Kept per process: each replica
    learns an endpoint's health from its own attempts."""

    def __init__(self, failures: int, cooldown: float) -> None:
        self.failures, self.cooldown = failures, cooldown
        self._failed: dict[str, int] = {}
        self._open_until: dict[str, float] = {}

    def open_until(self, endpoint: str, now: float) -> float | None:
        until = self._open_until.get(endpoint)
        return until if until is not None and until > now else None

    def succeeded(self, endpoint: str) -> None:
        self._failed.pop(endpoint, None)
        self._open_until.pop(endpoint, None)

    def failed(self, endpoint: str, now: float) -> None:
        count = self._failed.get(endpoint, 0) + 1
        self._failed[endpoint] = count
        if count >= self.failures:
            self._open_until[endpoint] = now + self.cooldown


def retry_delay(attempts: int, settings: SenderSettings) -> float:
    """Exponential, capped, with "equal jitter": replicas and partners failing together do not
    come back in step."""
    full = float(min(settings.retry_cap, settings.retry_first * 2 ** max(0, attempts - 1)))
    return full / 2 + random.uniform(0, full / 2)  # noqa: S311 - jitter, not a secret


class Sender:
    """Delivers one schema's due webhooks; safe in every replica (rows are leased with SKIP
    LOCKED, so two never post the same row at once)."""

    def __init__(
        self,
        pool: Pool,
        endpoints: Endpoints,
        settings: SenderSettings,
        *,
        keys: KeyRing | None = None,
        on_outcome: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.pool, self.endpoints, self.settings, self.keys = pool, endpoints, settings, keys
        self.on_outcome = on_outcome
        self.breaker = Breaker(settings.breaker_failures, settings.breaker_cooldown)

    async def run(self, stop: asyncio.Event) -> None:
        async with webhook_client(
            self.settings.timeout, allow_private=self.settings.allow_private
        ) as client:
            backoff = Backoff()
            while not stop.is_set():
                try:
                    sent = await self.deliver_due(client, now=datetime.now(UTC))
                except OUTAGES as exc:
                    # PostgreSQL away: what waits is in its rows, and is sent once it is back.
                    delay = backoff.next()
                    log.warning("webhook sender retrying", error=type(exc).__name__, retry_in=delay)
                    await wait_any(stop, timeout=delay)
                    continue
                backoff.reset()
                if sent < self.settings.batch:
                    await wait_any(stop, timeout=self.settings.interval)

    async def deliver_due(self, client: httpx.AsyncClient, *, now: datetime) -> int:
        """One round: give up what is past its deadline, lease what is due and post it."""
        async with self.pool.acquire() as conn:
            for _ in await conn.fetch(
                "DELETE FROM webhook_deliveries WHERE deliver_by <= $1 RETURNING id", now
            ):
                self.on_outcome(GIVEN_UP)
            # Leased for an attempt's timeout (and a margin): a replica that dies mid-attempt
            # leaves the row to be tried again after it.
            lease = now + timedelta(seconds=self.settings.timeout + 5)
            rows = await conn.fetch(
                """UPDATE webhook_deliveries d
                   SET next_attempt_at = $2, attempts = d.attempts + 1
                   FROM (SELECT id FROM webhook_deliveries WHERE next_attempt_at <= $1
                         ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
                   WHERE d.id = due.id
                   RETURNING d.id, d.endpoint, d.message_id, d.payload, d.sealed,
                             d.deliver_by, d.attempts""",
                now,
                lease,
                self.settings.batch,
            )
        deliveries = [msgspec.convert(dict(r.items()), Delivery) for r in rows]
        await asyncio.gather(*(self._attempt(client, d) for d in deliveries))
        return len(deliveries)

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        async with self.pool.acquire() as conn:
            target = await self.endpoints(conn, delivery.endpoint)
        if target is None:
            await self._delete(delivery)
            self.on_outcome(DROPPED)
            return
        clock = time.monotonic()
        open_until = self.breaker.open_until(delivery.endpoint, clock)
        if open_until is not None:
            self.on_outcome(BREAKER_OPEN)
            await self._later(delivery, open_until - clock, "circuit open", count=False)
            return
        error = await self._post(client, target, delivery)
        if error is None:
            self.breaker.succeeded(delivery.endpoint)
            await self._delete(delivery)
            self.on_outcome(DELIVERED)
            return
        self.breaker.failed(delivery.endpoint, time.monotonic())
        self.on_outcome(REFUSED if error.startswith("refused") else FAILED)
        log.info(
            "webhook attempt failed",
            endpoint=delivery.endpoint,
            webhook_id=delivery.message_id,
            attempt=delivery.attempts,
            error=error,
        )
        await self._later(delivery, retry_delay(delivery.attempts, self.settings), error)

    async def _post(
        self, client: httpx.AsyncClient, target: Target, delivery: Delivery
    ) -> str | None:
        """None on a 2xx answer, else why not (never the answer's body)."""
        try:
            check_url(target.url, allow_private=self.settings.allow_private)
        except UrlRefused as exc:
            return f"refused: {exc}"
        body = delivery.body(self.keys)
        headers = signed_headers(target.secrets, delivery.message_id, datetime.now(UTC), body)
        try:
            # Streamed and closed unread: only the status matters, whatever the answer holds.
            # The addresses are checked as the connection opens (PublicAddressesOnly).
            async with client.stream("POST", target.url, content=body, headers=headers) as answer:
                status = answer.status_code
        except UrlRefused as exc:
            return f"refused: {exc}"
        except httpx.TimeoutException:
            return "timeout"
        except httpx.HTTPError as exc:
            return f"connection error ({type(exc).__name__})"
        return None if 200 <= status < 300 else f"status {status}"

    async def _delete(self, delivery: Delivery) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute("DELETE FROM webhook_deliveries WHERE id = $1", delivery.id)

    async def _later(
        self, delivery: Delivery, delay: float, error: str, *, count: bool = True
    ) -> None:
        """Try again after `delay` seconds, or give up when that is past the deadline."""
        at = datetime.now(UTC) + timedelta(seconds=delay)
        async with self.pool.acquire() as conn:
            if at >= delivery.deliver_by:
                await conn.execute("DELETE FROM webhook_deliveries WHERE id = $1", delivery.id)
                self.on_outcome(GIVEN_UP)
                return
            await conn.execute(
                """UPDATE webhook_deliveries SET next_attempt_at = $2, last_error = $3,
                       attempts = attempts - $4 WHERE id = $1""",
                delivery.id,
                at,
                error,
                0 if count else 1,
            )
