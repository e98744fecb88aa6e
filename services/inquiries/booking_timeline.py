"""The patient's timeline shows the bookings logistics made for the trip, learned from
`logistics.booking.status_changed` events (inquiries never asks logistics).

Events may arrive late or twice: the inbox applies each once, and the newest version per booking
is kept, so an older event arriving after a newer one adds nothing. The patient sees a booking
once it is confirmed and as it progresses; offers to partners and unassigned bookings are the
operators' business and stay off the timeline."""

from __future__ import annotations

import uuid

import msgspec

from contracts.envelope import Metadata
from contracts.logistics import BookingStatus, BookingStatusChanged
from contracts.registry import BOOKING_STATUS_CHANGED
from services.inquiries import privacy_store, store
from services.runtime.core.db import Connection
from services.runtime.core.errors import NotFound
from services.runtime.messaging.inbox import Subscription

PATIENT_VISIBLE: frozenset[BookingStatus] = frozenset(
    {"confirmed", "in_progress", "completed", "cancelled"}
)


async def apply_booking_status(conn: Connection, event: BookingStatusChanged, _: Metadata) -> None:
    if event.inquiry_id is None:
        return
    inquiry_id = _inquiry_id(event.inquiry_id)
    if not await privacy_store.inquiry_exists(conn, inquiry_id):
        # Bookings are made for inquiries this service announced: an unknown id is a fault
        # an operator must see (a dead letter), not something to skip quietly.
        raise NotFound(f"booking {event.booking_id} names unknown inquiry {event.inquiry_id}")
    newest = await privacy_store.record_booking_progress(
        conn,
        booking_id=event.booking_id,
        inquiry_id=inquiry_id,
        kind=event.kind,
        status=event.to_status,
        version=event.version,
        partner_name=event.partner_name,
        progress=event.progress,
        changed_at=event.changed_at,
    )
    if newest and event.to_status in PATIENT_VISIBLE:
        await store.insert_timeline(
            conn,
            inquiry_id,
            "booking",
            {
                "booking_id": event.booking_id,
                "kind": event.kind,
                "to_status": event.to_status,
                "partner_name": event.partner_name,
                "progress": event.progress,
            },
            event.changed_at,
        )


def _inquiry_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(f"inquiry id {text!r} is not an inquiry of this service") from None


BOOKING_TIMELINE = Subscription(
    name="inquiries-booking-timeline",
    channels=(BOOKING_STATUS_CHANGED,),
    decoder=msgspec.json.Decoder(BookingStatusChanged),
    handler=apply_booking_status,
)
