"""The doors that are not HTTP: the inquiry lifecycle and the logistics facts, each decoded,
handed to one use case and left to the inbox to settle; and the sender loop, which delivers
what is due (new messages, retries, reminders whose time came)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from contracts.envelope import Metadata
from contracts.exports import CaseExportFailed, case_export_request_decoder
from contracts.inquiries import InquiryEvent, inquiry_event_decoder
from contracts.logistics import LogisticsEvent, logistics_event_decoder
from contracts.operations import DeadLetterRecorded, operations_event_decoder
from contracts.registry import (
    BOOKING_STATUS_CHANGED,
    DEAD_LETTERS_RECORDED,
    INQUIRY_CANCELLED,
    INQUIRY_CONFIRMED,
    INQUIRY_CONSENT_WITHDRAWN,
    INQUIRY_DISCHARGED,
    INQUIRY_ERASED,
    INQUIRY_OFFER_SENT,
    INQUIRY_STATUS_CHANGED,
    INQUIRY_SUBMITTED,
    INQUIRY_TOKEN_REISSUED,
    NOTIFICATIONS_CASE_EXPORT,
    OPERATOR_ALERT,
    SUPPORT_CASE_ESCALATED,
    SUPPORT_CASE_REPLIED,
)
from contracts.support import SupportEvent, support_event_decoder
from services.notifications import usecases
from services.notifications.domain.decisions import DEAD_LETTER_CONSUMER_PREFIX
from services.notifications.usecases import Notifying
from services.notifications.usecases.export import export_case
from services.runtime.core.db import Connection, Pool
from services.runtime.core.pacing import wait_any
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.inbox import Subscription
from services.runtime.messaging.request_reply import answer
from services.runtime.privacy.crypto import KeyRing

Loop = Callable[[asyncio.Event], Awaitable[None]]


def subscriptions(keys: KeyRing) -> tuple[Subscription[Any], ...]:
    """The inquiry lifecycle and the logistics facts; what a fact brings that names people
    (a driver, a meeting point) is sealed with `keys` as it is written."""

    async def inquiry_fact(conn: Connection, event: InquiryEvent, _: Metadata) -> None:
        await usecases.apply_inquiry_event(conn, keys, event, datetime.now(UTC))

    async def logistics_fact(conn: Connection, event: LogisticsEvent, _: Metadata) -> None:
        await usecases.apply_logistics_event(conn, keys, event, datetime.now(UTC))

    async def support_fact(conn: Connection, event: SupportEvent, _: Metadata) -> None:
        await usecases.apply_support_event(conn, keys, event, datetime.now(UTC))

    async def dead_letter(conn: Connection, event: DeadLetterRecorded, _: Metadata) -> None:
        await usecases.apply_dead_letter(conn, keys, event, datetime.now(UTC))

    # One consumer per stream (a consumer reads one): each service announces on its own.
    dead_letters = tuple(
        Subscription(
            name=f"{DEAD_LETTER_CONSUMER_PREFIX}{service}",
            channels=(channel,),
            decoder=operations_event_decoder,
            handler=dead_letter,
        )
        for service, channel in DEAD_LETTERS_RECORDED.items()
    )
    return (
        *dead_letters,
        Subscription(
            name="notifications-inquiry-lifecycle",
            channels=INQUIRY_CHANNELS,
            decoder=inquiry_event_decoder,
            handler=inquiry_fact,
        ),
        Subscription(
            name="notifications-logistics",
            channels=(BOOKING_STATUS_CHANGED, OPERATOR_ALERT),
            decoder=logistics_event_decoder,
            handler=logistics_fact,
        ),
        Subscription(
            name="notifications-support",
            channels=(SUPPORT_CASE_ESCALATED, SUPPORT_CASE_REPLIED),
            decoder=support_event_decoder,
            handler=support_fact,
        ),
    )


INQUIRY_CHANNELS = (
    INQUIRY_SUBMITTED,
    INQUIRY_STATUS_CHANGED,
    INQUIRY_OFFER_SENT,
    INQUIRY_CONFIRMED,
    INQUIRY_DISCHARGED,
    INQUIRY_CANCELLED,
    INQUIRY_CONSENT_WITHDRAWN,
    INQUIRY_ERASED,
    INQUIRY_TOKEN_REISSUED,
)


def sender(d: Notifying, *, interval: float, batch: int) -> Loop:
    """Messages live in the database, so a restart loses none; replicas share them through
    SKIP LOCKED. Looks every `interval` seconds, at once again while it finds a full batch."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            taken = await usecases.send_due(d, now=datetime.now(UTC), limit=batch)
            if taken < batch:
                await wait_any(stop, timeout=interval)

    return run


def case_exports(pool: Pool, keys: KeyRing, bus: Bus) -> Loop:
    """Notifications' part of a case's export, asked for by inquiries."""

    async def run(stop: asyncio.Event) -> None:
        await answer(
            bus,
            NOTIFICATIONS_CASE_EXPORT,
            case_export_request_decoder,
            lambda request: export_case(pool, keys, request),
            lambda reason: CaseExportFailed(reason=reason),
            stop,
        )

    return run
