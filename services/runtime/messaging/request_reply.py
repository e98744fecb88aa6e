"""Core-NATS request/reply between services (contracts/registry.py `RequestChannel`): for a
question a person is waiting on, answered now or not at all. Nothing is kept: no stream
captures these subjects, so a request nobody answers is simply an error for the asker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
import structlog
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from opentelemetry.trace import SpanKind

from contracts.envelope import Event
from contracts.registry import RequestChannel
from services.runtime.core import tracing
from services.runtime.core.outages import TRANSIENT
from services.runtime.core.tracing import TRACEPARENT, TRACESTATE, TraceContext
from services.runtime.messaging.bus import Bus

log = structlog.get_logger(__name__)

R = TypeVar("R")


class NoAnswer(Exception):
    """The responder did not answer in time, or none is running."""

    def __init__(self, channel: RequestChannel, why: str) -> None:
        super().__init__(f"{channel.responder} {why}")
        self.channel = channel


async def ask(
    bus: Bus,
    channel: RequestChannel,
    request: Event,
    decoder: msgspec.json.Decoder[R],
    *,
    timeout: float,
) -> R:
    """Send `request` and return the decoded reply; NoAnswer when none comes within `timeout`
    seconds or no responder is subscribed (the server says so at once)."""
    if not isinstance(request, channel.request):
        raise TypeError(f"{channel.address} carries {channel.request.__name__} requests")
    try:
        reply = await bus.nc.request(
            bus.subject(channel.address),
            msgspec.json.encode(request),
            timeout=timeout,
            # W3C trace context as plain header fields: these messages are not CloudEvents.
            headers=tracing.current().carrier() or None,
        )
    except NoRespondersError:
        raise NoAnswer(channel, "is not running") from None
    except NatsTimeoutError:
        raise NoAnswer(channel, f"did not answer within {timeout:g} s") from None
    try:
        return decoder.decode(reply.data)
    except msgspec.DecodeError as exc:
        # The reply may hold personal data: only the error's position, never the body, is told.
        raise NoAnswer(channel, f"sent a malformed reply ({exc})") from None


async def answer(
    bus: Bus,
    channel: RequestChannel,
    decoder: msgspec.json.Decoder[R],
    handle: Callable[[R], Awaitable[Event]],
    failed: Callable[[str], Event],
    stop: asyncio.Event,
) -> None:
    """Answer `channel`'s requests until `stop`, in the responder's queue group so each request
    reaches one replica. A request that cannot be decoded, or whose handling fails, is answered
    with `failed(reason)` at once rather than left to time out."""

    async def respond(msg: Msg) -> None:
        if not msg.reply:
            return  # a plain publish expects no answer; there is nobody to tell
        try:
            request = decoder.decode(msg.data)
        except msgspec.DecodeError as exc:
            await msg.respond(msgspec.json.encode(failed(f"malformed request: {exc}")))
            return
        headers = msg.headers or {}
        try:
            with tracing.continued(
                TraceContext.of(headers.get(TRACEPARENT), headers.get(TRACESTATE)),
                f"answer {channel.address}",
                SpanKind.SERVER,
                attributes=tracing.messaging_attributes(channel.address, None),
            ):
                reply = await handle(request)
        except TRANSIENT as exc:
            # PostgreSQL away or restarting: the asker is told at once and tries again later
            # (notifications retry a message whose contact could not be read); not a crash.
            log.warning("request not answered: outage", subject=channel.address, error=repr(exc))
            reply = failed("the responder is briefly unavailable; try again")
        except Exception:
            log.exception("request failed", subject=channel.address)
            reply = failed("the request failed; the responder logged why")
        await msg.respond(msgspec.json.encode(reply))

    subscription = await bus.nc.subscribe(
        bus.subject(channel.address), queue=channel.queue, cb=respond
    )
    try:
        await stop.wait()
    finally:
        await subscription.unsubscribe()
