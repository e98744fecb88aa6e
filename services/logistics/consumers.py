"""The doors that are not HTTP: the inquiry lifecycle (bookings to make, cancel or erase), the
support desk's requests for an interpreter by phone, and the partners' replies, each decoded,
handed to one use case, and left to the inbox to settle; the deadline loop that withdraws
unanswered offers; and inquiries' requests for a case's export, answered over request/reply."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from contracts.envelope import Metadata
from contracts.exports import CaseExportFailed, case_export_request_decoder
from contracts.inquiries import (
    BookingsReleased,
    ConsentWithdrawn,
    InquiryCancelled,
    InquiryConfirmed,
    InquiryDischarged,
    InquiryEvent,
    PersonalDataErased,
    inquiry_event_decoder,
)
from contracts.partners import PartnerReply, partner_reply_decoder
from contracts.registry import (
    CASE_EXPORT,
    INQUIRY_BOOKINGS_RELEASED,
    INQUIRY_CANCELLED,
    INQUIRY_CONFIRMED,
    INQUIRY_CONSENT_WITHDRAWN,
    INQUIRY_DISCHARGED,
    INQUIRY_ERASED,
    PARTNER_REPLIES,
    SUPPORT_INTERPRETER_REQUESTED,
)
from contracts.support import InterpreterRequested, SupportEvent, support_event_decoder
from services.logistics import usecases
from services.logistics.usecases import BookingCollaborators
from services.runtime.access.rate_limit import RateLimiter
from services.runtime.core.db import Connection
from services.runtime.core.errors import Invalid, NotYet
from services.runtime.core.pacing import wait_any
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.inbox import Subscription
from services.runtime.messaging.request_reply import answer

# A background door: runs until `stop` is set.
Loop = Callable[[asyncio.Event], Awaitable[None]]


def subscriptions(
    d: BookingCollaborators, *, reply_limit: int = 0
) -> tuple[Subscription[Any], ...]:
    """`reply_limit`: replies a minute each partner may have applied (0: no limit). The excess
    is handed back to come again later, and kept as a dead letter if it is still over the
    limit after many attempts: a partner flooding its subject slows only itself."""
    replies = RateLimiter()

    async def apply_inquiry_event(conn: Connection, event: InquiryEvent, _: Metadata) -> None:
        now = datetime.now(UTC)
        match event:
            case InquiryConfirmed() | InquiryDischarged():
                origin = "confirmed" if isinstance(event, InquiryConfirmed) else "discharged"
                await usecases.remember_sharing_consent(
                    conn, event.inquiry_id, event.sharing_consent
                )
                for position, details in enumerate(event.bookings):
                    await usecases.create_booking(
                        conn,
                        d,
                        details,
                        inquiry_id=event.inquiry_id,
                        now=now,
                        origin=origin,
                        position=position,
                    )
            case BookingsReleased():
                # The step's own event carried none of these (they waited for the patient's
                # consent to partner sharing): booked under the step's origin, deduplicated
                # like the step's own requests.
                await usecases.remember_sharing_consent(
                    conn, event.inquiry_id, event.sharing_consent
                )
                for position, details in enumerate(event.bookings):
                    await usecases.create_booking(
                        conn,
                        d,
                        details,
                        inquiry_id=event.inquiry_id,
                        now=now,
                        origin=event.step,
                        position=position,
                    )
            case InquiryCancelled():
                await usecases.cancel_inquiry(
                    conn, d, event.inquiry_id, reason=event.reason or "inquiry cancelled", now=now
                )
            case ConsentWithdrawn():
                if event.purpose == "partner_sharing":
                    await usecases.withdraw_sharing_consent(
                        conn, event.inquiry_id, event.withdrawn_at
                    )
            case PersonalDataErased():
                await usecases.erase_inquiry(conn, d, event.inquiry_id, now=now)
                await usecases.erase_copies(conn, d.outbox, event.inquiry_id)
            case _:
                # Only the channels above are read; another inquiry event would be a new
                # channel added to this subscription without a case here.
                raise Invalid.single("type", f"{type(event).__name__} is not handled here")

    async def apply_support_event(conn: Connection, event: SupportEvent, _: Metadata) -> None:
        if not isinstance(event, InterpreterRequested):
            # Only the interpreter channel is read: another support fact would be a channel
            # added to this subscription without a case here.
            raise Invalid.single("type", f"{type(event).__name__} is not handled here")
        await usecases.book_interpreter_for_case(conn, d, event, now=datetime.now(UTC))

    async def apply_partner_reply(conn: Connection, reply: PartnerReply, meta: Metadata) -> None:
        sender, now = sender_of(meta), datetime.now(UTC)
        if reply_limit and replies.take(sender, reply_limit, time.monotonic())[1]:
            raise NotYet(f"partner {sender} is over its {reply_limit} replies a minute")
        await usecases.answer_partner(conn, d, reply, sender, report_id=meta.id, now=now)

    return (
        Subscription(
            name="logistics-inquiry-lifecycle",
            channels=(
                INQUIRY_CONFIRMED,
                INQUIRY_DISCHARGED,
                INQUIRY_BOOKINGS_RELEASED,
                INQUIRY_CANCELLED,
                INQUIRY_CONSENT_WITHDRAWN,
                INQUIRY_ERASED,
            ),
            decoder=inquiry_event_decoder,
            handler=apply_inquiry_event,
        ),
        Subscription(
            name="logistics-support-interpreters",
            channels=(SUPPORT_INTERPRETER_REQUESTED,),
            decoder=support_event_decoder,
            handler=apply_support_event,
        ),
        Subscription(
            name="logistics-partner-replies",
            channels=(PARTNER_REPLIES,),
            decoder=partner_reply_decoder,
            handler=apply_partner_reply,
            ids_per_subject=True,
        ),
    )


def sender_of(meta: Metadata) -> str:
    """The partner a reply came from is the one whose subject it arrived on: NATS permissions
    let each partner publish only on its own `partners.{id}.replies`."""
    parts = (meta.subject or "").split(".")
    if len(parts) != 3 or parts[0] != "partners" or parts[2] != "replies":
        raise Invalid.single("subject", f"{meta.subject!r} is not a partner's reply subject")
    return parts[1]


def offer_deadlines(d: BookingCollaborators, *, interval: float, batch: int) -> Loop:
    """Deadlines live in the database, so they survive restarts; replicas share them. The loop
    looks every `interval` seconds, at once again while it finds a full batch."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            claimed = await usecases.expire_due_offers(d, now=datetime.now(UTC), limit=batch)
            if claimed < batch:
                await wait_any(stop, timeout=interval)

    return run


def case_exports(d: BookingCollaborators, bus: Bus) -> Loop:
    """Logistics' part of a case's export, asked for by inquiries."""

    async def run(stop: asyncio.Event) -> None:
        await answer(
            bus,
            CASE_EXPORT,
            case_export_request_decoder,
            lambda request: usecases.export_case(d.pool, d.keys, request),
            lambda reason: CaseExportFailed(reason=reason),
            stop,
        )

    return run
