"""The doors that are not HTTP: the NATS subscriptions (conditions from content, booking progress
from logistics) and the timer loops (offer expiry, retention). Each decodes or wakes, calls one
use case, and lets the inbox or the loop do the rest."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog

from contracts.content import ContentEvent, content_event_decoder
from contracts.envelope import Metadata
from contracts.logistics import BookingStatusChanged
from contracts.notifications import ContactLookupFailed, contact_request_decoder
from contracts.registry import (
    BOOKING_STATUS_CHANGED,
    CONTACT,
    CONTENT_PUBLISHED,
    CONTENT_UNPUBLISHED,
    TOKEN_CHECK,
)
from contracts.support import TokenCheckFailed, token_check_request_decoder
from services.inquiries.domain.retention import Periods
from services.inquiries.usecases import casework, contact, intake, offers
from services.inquiries.usecases.privacy import erasure, retention
from services.runtime.core.db import Connection
from services.runtime.core.pacing import wait_any
from services.runtime.messaging.inbox import Subscription
from services.runtime.messaging.request_reply import answer
from services.runtime.privacy.crypto import KeyRing
from services.runtime.service.factory import BackgroundLoop
from services.runtime.service.running import Runtime

log = structlog.get_logger(__name__)

# However long the retention interval, a replica looks this often whether the shared run is due.
RETENTION_POLL_SECONDS = 60.0


async def _learn_condition(conn: Connection, event: ContentEvent, _: Metadata) -> None:
    await intake.learn_condition(conn, event)


CONDITION_CATALOGUE = Subscription(
    name="inquiries-condition-catalogue",
    channels=(CONTENT_PUBLISHED, CONTENT_UNPUBLISHED),
    decoder=content_event_decoder,
    handler=_learn_condition,
)


def booking_timeline(keys: KeyRing) -> Subscription[BookingStatusChanged]:
    """Logistics' booking steps, with what the patient needs to meet each (sealed here)."""

    async def record(conn: Connection, event: BookingStatusChanged, _: Metadata) -> None:
        await casework.record_booking_progress(conn, keys, event)

    return Subscription(
        name="inquiries-booking-timeline",
        channels=(BOOKING_STATUS_CHANGED,),
        decoder=msgspec.json.Decoder(BookingStatusChanged),
        handler=record,
    )


def subscriptions(keys: KeyRing) -> tuple[Subscription[Any], ...]:
    return (CONDITION_CATALOGUE, booking_timeline(keys))


def offer_expiry(interval: float) -> BackgroundLoop:
    """The scheduler: the deadlines live in the database, so a restart loses none of them."""

    async def loop(runtime: Runtime, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # A full batch means more may be due: carry on before waiting.
            while (
                await offers.expire_due(runtime.pool, runtime.outbox, now=datetime.now(UTC))
                == offers.EXPIRY_BATCH
            ):
                pass
            await wait_any(stop, timeout=interval)

    return loop


def retention_loop(periods: Periods, interval: float, keys: KeyRing) -> BackgroundLoop:
    async def loop(runtime: Runtime, stop: asyncio.Event) -> None:
        erasing = erasure.Erasing(
            outbox=runtime.outbox, keys=keys, billing_retention_years=periods.billing_years
        )
        while not stop.is_set():
            report = await retention.run_if_due(
                runtime.pool, erasing, periods, interval=interval, now=datetime.now(UTC)
            )
            if report is not None:
                log.info("retention ran", **report.counts())
            await wait_any(stop, timeout=min(interval, RETENTION_POLL_SECONDS))

    return loop


def contact_answers(keys: KeyRing) -> BackgroundLoop:
    """Notifications' contact requests, answered from the sealed case at the moment of sending."""

    async def loop(runtime: Runtime, stop: asyncio.Event) -> None:
        await answer(
            runtime.bus,
            CONTACT,
            contact_request_decoder,
            lambda request: contact.contact_for(runtime.pool, keys, request),
            lambda reason: ContactLookupFailed(reason=reason),
            stop,
        )

    return loop


def token_checks() -> BackgroundLoop:
    """Support's question whether a patient's token opens their inquiry, answered from the
    stored digest; the token itself never reaches this service from support."""

    async def loop(runtime: Runtime, stop: asyncio.Event) -> None:
        await answer(
            runtime.bus,
            TOKEN_CHECK,
            token_check_request_decoder,
            lambda request: intake.token_check(runtime.pool, request),
            lambda reason: TokenCheckFailed(reason=reason),
            stop,
        )

    return loop
