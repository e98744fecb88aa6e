"""Creating bookings and offering them to partners: the best suitable one first, the next on a
decline or a missed deadline, `unassigned` and an operator alert when none is left. Every state
change goes through `move`, which appends it to the timeline and announces it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from contracts.logistics import (
    BookingCreated,
    BookingDetails,
    BookingStatus,
    BookingStatusChanged,
    OperatorAlert,
)
from contracts.partners import Offer, OfferWithdrawn
from contracts.registry import (
    BOOKING_CREATED,
    BOOKING_STATUS_CHANGED,
    OPERATOR_ALERT,
    PARTNER_OFFERS,
)
from services.logistics import domain, need_to_know, store
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import Conflict, NotFound
from services.runtime.messaging.outbox import Outbox
from services.runtime.privacy import disclosures
from services.runtime.privacy.crypto import KeyRing


@dataclass(frozen=True)
class Dispatch:
    """What every command that may offer a booking needs: the key ring opens its details."""

    outbox: Outbox
    offer_timeout: timedelta
    keys: KeyRing


async def create_booking(
    conn: Connection,
    d: Dispatch,
    details: BookingDetails,
    *,
    inquiry_id: str | None,
    now: datetime,
    origin: str | None = None,
    position: int | None = None,
) -> uuid.UUID | None:
    """Create a booking and offer it to the best suitable partner at once. None when the
    requesting event (`origin`, `position`) was applied before."""
    booking_id = uuid.uuid4()
    kind = domain.kind_of(details)
    created = await store.insert_booking(
        conn,
        d.keys,
        id=booking_id,
        inquiry_id=inquiry_id,
        origin=origin,
        position=position,
        details=details,
        kind=kind,
        now=now,
    )
    if not created:
        return None
    await store.insert_timeline(conn, booking_id, at=now, entry="created", status="requested")
    await d.outbox.emit(
        conn,
        BOOKING_CREATED.subject(),
        BookingCreated(
            booking_id=str(booking_id), inquiry_id=inquiry_id, kind=kind, created_at=now
        ),
    )
    booking = await store.lock_booking(conn, d.keys, booking_id)
    if booking is None:  # pragma: no cover - inserted above in this transaction
        raise RuntimeError("booking vanished inside its own transaction")
    await offer_to_next_partner(conn, d, booking, now)
    return booking_id


async def _next_partner(
    conn: Connection, booking: store.Booking
) -> tuple[domain.Partner | None, int]:
    """The partner to offer the booking to next, and how many were asked before."""
    partners = await store.active_partners(conn, booking.kind)
    asked = [o.partner_id for o in await store.offers_of(conn, booking.id)]
    return domain.next_partner(booking.details, partners, asked), len(asked)


async def offer_to_next_partner(
    conn: Connection, d: Dispatch, booking: store.Booking, now: datetime
) -> store.Booking:
    partner, asked = await _next_partner(conn, booking)
    if partner is None:
        moved = await move(
            conn, d.outbox, booking, "unassigned", now, entry="unassigned", detail={}
        )
        await d.outbox.emit(
            conn,
            OPERATOR_ALERT.subject(),
            OperatorAlert(
                alert="booking_unassigned",
                booking_id=str(booking.id),
                inquiry_id=booking.inquiry_id,
                detail=(
                    f"no suitable active {booking.kind} partner is left for this booking "
                    f"({asked} asked); register or activate one, then dispatch it again"
                ),
                raised_at=now,
            ),
        )
        return moved
    return await _offer(conn, d, booking, partner, now)


async def _offer(
    conn: Connection, d: Dispatch, booking: store.Booking, partner: domain.Partner, now: datetime
) -> store.Booking:
    offer_id = uuid.uuid4()
    respond_by = now + d.offer_timeout
    await store.insert_offer(
        conn,
        id=offer_id,
        booking_id=booking.id,
        partner_id=partner.id,
        sent_at=now,
        respond_by=respond_by,
    )
    offer = Offer(
        offer_id=str(offer_id),
        booking_id=str(booking.id),
        kind=booking.kind,
        respond_by=respond_by,
        details=need_to_know.for_partner(booking.details),
    )
    await d.outbox.emit(
        conn,
        PARTNER_OFFERS.subject(partner_id=partner.id, kind=booking.kind),
        offer,
        # The offer names the traveller: erasing the inquiry deletes it from the stream.
        erasure_key=booking.inquiry_id,
    )
    await disclosures.record(
        conn,
        inquiry_id=booking.inquiry_id,
        kind="partner_offer",
        recipient_type="partner",
        recipient=partner.id,
        fields=disclosures.carried_fields(offer),
        reference=str(offer_id),
        at=now,
    )
    detail = {"offer_id": str(offer_id), "respond_by": respond_by.isoformat()}
    if booking.status == "offered":
        # Still offered, now to the next partner: a timeline entry, not a change of state.
        await store.insert_timeline(
            conn,
            booking.id,
            at=now,
            entry="offered",
            status="offered",
            partner_id=partner.id,
            detail=detail,
        )
        return booking
    return await move(
        conn, d.outbox, booking, "offered", now, entry="offered", partner=partner.id, detail=detail
    )


async def move(
    conn: Connection,
    outbox: Outbox,
    booking: store.Booking,
    target: BookingStatus,
    now: datetime,
    *,
    entry: str,
    partner: str | None = None,
    detail: dict[str, Any],
) -> store.Booking:
    """Apply a state change (with the booking's new partner and progress already set on
    `booking`), append it to the timeline and announce it. `partner` is who the timeline entry
    concerns, when that is not (yet) the booking's partner."""
    domain.check_transition(booking.status, target)
    moved = msgspec.structs.replace(
        booking, status=target, version=booking.version + 1, updated_at=now
    )
    await store.update_booking_status(
        conn,
        booking.id,
        status=target,
        version=moved.version,
        partner_id=moved.partner_id,
        progress=moved.progress,
        now=now,
    )
    await store.insert_timeline(
        conn,
        booking.id,
        at=now,
        entry=entry,
        status=target,
        partner_id=partner or moved.partner_id,
        detail=detail,
    )
    assigned = await store.get_partner(conn, moved.partner_id) if moved.partner_id else None
    await outbox.emit(
        conn,
        BOOKING_STATUS_CHANGED.subject(),
        BookingStatusChanged(
            booking_id=str(booking.id),
            inquiry_id=booking.inquiry_id,
            kind=booking.kind,
            from_status=booking.status,
            to_status=target,
            version=moved.version,
            partner_id=moved.partner_id,
            partner_name=assigned.name if assigned else None,
            progress=moved.progress,
            changed_at=now,
        ),
    )
    return moved


async def dispatch_again(pool: Pool, d: Dispatch, booking_id: uuid.UUID, *, now: datetime) -> None:
    """Offer an unassigned booking again, once a coordinator registered or activated a partner
    for it; partners that declined or let the deadline pass are still not asked again."""
    async with transaction(pool) as conn:
        booking = await store.lock_booking(conn, d.keys, booking_id)
        if booking is None:
            raise NotFound(f"booking {booking_id} does not exist")
        domain.check_transition(booking.status, "offered")
        partner, asked = await _next_partner(conn, booking)
        if partner is None:
            raise Conflict(
                f"still no suitable active {booking.kind} partner that was not asked before "
                f"({asked} asked)"
            )
        await _offer(conn, d, booking, partner, now)


async def expire_due_offers(pool: Pool, d: Dispatch, *, now: datetime, limit: int) -> int:
    """Withdraw offers not answered by their deadline and offer their bookings to the next
    partner; returns how many were claimed."""
    async with transaction(pool) as conn:
        due = await store.claim_due_offers(conn, now, limit)
        for offer_id, booking_id in due:
            offer = await store.get_offer(conn, offer_id)
            booking = await store.get_booking(conn, d.keys, booking_id)
            if offer is None or booking is None or offer.state != "open":
                continue  # answered between the scan and the lock
            await store.close_offer(
                conn, offer.id, state="expired", reason="no answer by the deadline", now=now
            )
            await withdraw(
                conn, d, booking, offer, "no answer by the deadline: offered to another partner"
            )
            await store.insert_timeline(
                conn,
                booking.id,
                at=now,
                entry="offer_expired",
                status=booking.status,
                partner_id=offer.partner_id,
                detail={"offer_id": str(offer.id)},
            )
            await offer_to_next_partner(conn, d, booking, now)
    return len(due)


async def withdraw(
    conn: Connection, d: Dispatch, booking: store.Booking, offer: store.OfferRow, reason: str
) -> None:
    await d.outbox.emit(
        conn,
        PARTNER_OFFERS.subject(partner_id=offer.partner_id, kind=booking.kind),
        OfferWithdrawn(offer_id=str(offer.id), booking_id=str(booking.id), reason=reason),
    )
