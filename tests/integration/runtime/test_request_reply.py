"""Request/reply on a real NATS server: a responder whose handling fails answers at once with
the channel's failure reply, and an outage (PostgreSQL away) is a warning, not an error."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest
import structlog
from structlog.testing import capture_logs

from contracts.envelope import Event
from contracts.notifications import (
    Contact,
    ContactLookupFailed,
    ContactRequest,
    contact_reply_decoder,
    contact_request_decoder,
)
from contracts.registry import CONTACT
from services.runtime.messaging import request_reply
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.request_reply import NoAnswer, answer, ask

Handler = Callable[[ContactRequest], Awaitable[Event]]


@asynccontextmanager
async def responding(bus: Bus, handle: Handler) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(
        answer(
            bus,
            CONTACT,
            contact_request_decoder,
            handle,
            lambda reason: ContactLookupFailed(reason=reason),
            stop,
        )
    )
    await asyncio.sleep(0.2)  # the subscription reaches the server
    await bus.nc.flush()
    try:
        yield
    finally:
        stop.set()
        await task


def _request() -> ContactRequest:
    return ContactRequest(inquiry_id=str(uuid.uuid4()))


@pytest.fixture(autouse=True)
def fresh_loggers() -> None:
    # Loggers are cached on first use; capture_logs needs the module's logger unbound.
    request_reply.log = structlog.get_logger(request_reply.__name__)


async def test_an_answer_reaches_the_asker(bus: Bus) -> None:
    async def handle(request: ContactRequest) -> Event:
        return Contact(inquiry_id=request.inquiry_id, email="p@example.org", language="uk")

    async with responding(bus, handle):
        reply = await ask(bus, CONTACT, _request(), contact_reply_decoder, timeout=5)

    assert isinstance(reply, Contact)
    assert reply.email == "p@example.org"


async def test_an_outage_is_answered_at_once_and_logged_as_a_warning(bus: Bus) -> None:
    async def handle(request: ContactRequest) -> Event:
        raise asyncpg.exceptions.CannotConnectNowError("the database system is starting up")

    with capture_logs() as logs:
        async with responding(bus, handle):
            reply = await ask(bus, CONTACT, _request(), contact_reply_decoder, timeout=5)

    assert isinstance(reply, ContactLookupFailed)
    assert "unavailable" in reply.reason
    levels = {line["log_level"] for line in logs if line.get("subject") == CONTACT.address}
    assert levels == {"warning"}


async def test_a_bug_is_answered_at_once_and_logged_as_an_error(bus: Bus) -> None:
    async def handle(request: ContactRequest) -> Event:
        raise KeyError("a bug")

    with capture_logs() as logs:
        async with responding(bus, handle):
            reply = await ask(bus, CONTACT, _request(), contact_reply_decoder, timeout=5)

    assert isinstance(reply, ContactLookupFailed)
    assert "logged why" in reply.reason
    levels = {line["log_level"] for line in logs if line.get("subject") == CONTACT.address}
    assert levels == {"error"}


async def test_nobody_answering_is_no_answer(bus: Bus) -> None:
    with pytest.raises(NoAnswer, match=r"is not running|did not answer"):
        await ask(bus, CONTACT, _request(), contact_reply_decoder, timeout=1)


async def test_a_malformed_request_is_refused_with_the_reason(bus: Bus) -> None:
    async def handle(request: ContactRequest) -> Event:
        raise AssertionError("never reached")

    async with responding(bus, handle):
        msg = await bus.nc.request(bus.subject(CONTACT.address), b'{"nope": 1}', timeout=5)

    reply = contact_reply_decoder.decode(msg.data)
    assert isinstance(reply, ContactLookupFailed)
    assert reply.reason.startswith("malformed request")
