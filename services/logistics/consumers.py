"""The doors messages come in by: the inquiry lifecycle (bookings to make, cancel or erase) and
the partners' replies. Each decodes, calls one use case, and lets the inbox do the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contracts.envelope import Metadata
from contracts.inquiries import (
    InquiryCancelled,
    InquiryConfirmed,
    InquiryDischarged,
    InquiryEvent,
    PersonalDataErased,
    inquiry_event_decoder,
)
from contracts.partners import IncidentReported, PartnerReply, partner_reply_decoder
from contracts.registry import (
    INQUIRY_CANCELLED,
    INQUIRY_CONFIRMED,
    INQUIRY_DISCHARGED,
    INQUIRY_ERASED,
    PARTNER_REPLIES,
)
from services.logistics import usecases
from services.logistics.usecases import Dispatch
from services.runtime.core.db import Connection
from services.runtime.core.errors import Invalid
from services.runtime.messaging.inbox import Subscription


def subscriptions(d: Dispatch) -> tuple[Subscription[Any], ...]:
    async def apply_inquiry_event(conn: Connection, event: InquiryEvent, _: Metadata) -> None:
        now = datetime.now(UTC)
        match event:
            case InquiryConfirmed() | InquiryDischarged():
                origin = "confirmed" if isinstance(event, InquiryConfirmed) else "discharged"
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
            case InquiryCancelled():
                await usecases.cancel_inquiry(
                    conn, d, event.inquiry_id, reason=event.reason or "inquiry cancelled", now=now
                )
            case PersonalDataErased():
                await usecases.erase_inquiry(conn, d, event.inquiry_id, now=now)
                await usecases.erase_copies(conn, d.outbox, event.inquiry_id)
            case _:
                # Only the channels above are read; another inquiry event would be a new
                # channel added to this subscription without a case here.
                raise Invalid.single("type", f"{type(event).__name__} is not handled here")

    async def apply_partner_reply(conn: Connection, reply: PartnerReply, meta: Metadata) -> None:
        sender, now = sender_of(meta), datetime.now(UTC)
        match reply:
            case IncidentReported():
                await usecases.record_incident(conn, d, reply, sender, report_id=meta.id, now=now)
            case _:
                await usecases.apply_reply(conn, d, reply, sender, now)

    return (
        Subscription(
            name="logistics-inquiry-lifecycle",
            channels=(INQUIRY_CONFIRMED, INQUIRY_DISCHARGED, INQUIRY_CANCELLED, INQUIRY_ERASED),
            decoder=inquiry_event_decoder,
            handler=apply_inquiry_event,
        ),
        Subscription(
            name="logistics-partner-replies",
            channels=(PARTNER_REPLIES,),
            decoder=partner_reply_decoder,
            handler=apply_partner_reply,
        ),
    )


def sender_of(meta: Metadata) -> str:
    """The partner a reply came from is the one whose subject it arrived on: NATS permissions
    let each partner publish only on its own `partners.{id}.replies`."""
    parts = (meta.subject or "").split(".")
    if len(parts) != 3 or parts[0] != "partners" or parts[2] != "replies":
        raise Invalid.single("subject", f"{meta.subject!r} is not a partner's reply subject")
    return parts[1]
