"""Booking commands, each inside one transaction: lock the booking, let the domain decide, save,
and announce through the outbox. Reached alike from HTTP, from consumers and from the deadline
loop; every change of a booking happens under its row lock, so they never act on it twice."""

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
from contracts.partners import (
    Offer,
    OfferAccepted,
    OfferDeclined,
    OfferWithdrawn,
    PartnerReply,
    StatusUpdate,
)
from contracts.registry import (
    BOOKING_CREATED,
    BOOKING_STATUS_CHANGED,
    OPERATOR_ALERT,
    PARTNER_OFFERS,
)
from services.logistics import domain, store
from services.runtime.db import Connection, Pool, transaction
from services.runtime.errors import Conflict, Invalid, NotFound
from services.runtime.outbox import Outbox


@dataclass(frozen=True)
class Dispatch:
    """What every command that may offer a booking needs."""

    outbox: Outbox
    offer_timeout: timedelta


# --- creating and dispatching ------------------------------------------------------------------


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
    booking = await store.lock_booking(conn, booking_id)
    if booking is None:  # pragma: no cover - inserted above in this transaction
        raise RuntimeError("booking vanished inside its own transaction")
    await _offer_to_next_partner(conn, d, booking, now)
    return booking_id


async def _next_partner(
    conn: Connection, booking: store.Booking
) -> tuple[domain.Partner | None, int]:
    """The partner to offer the booking to next, and how many were asked before."""
    partners = await store.active_partners(conn, booking.kind)
    asked = [o.partner_id for o in await store.offers_of(conn, booking.id)]
    return domain.next_partner(booking.details, partners, asked), len(asked)


async def _offer_to_next_partner(
    conn: Connection, d: Dispatch, booking: store.Booking, now: datetime
) -> store.Booking:
    partner, asked = await _next_partner(conn, booking)
    if partner is None:
        moved = await _move(
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
    await d.outbox.emit(
        conn,
        PARTNER_OFFERS.subject(partner_id=partner.id, kind=booking.kind),
        Offer(
            offer_id=str(offer_id),
            booking_id=str(booking.id),
            kind=booking.kind,
            respond_by=respond_by,
            details=booking.details,
        ),
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
    return await _move(
        conn, d.outbox, booking, "offered", now, entry="offered", partner=partner.id, detail=detail
    )


async def _move(
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
        booking = await store.lock_booking(conn, booking_id)
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


# --- partner replies ---------------------------------------------------------------------------


async def apply_reply(
    conn: Connection, d: Dispatch, reply: PartnerReply, sender: str, now: datetime
) -> None:
    """Apply what partner `sender` answered. A reply about an offer or booking the sender does
    not hold, a stale or repeated one, or progress out of order raises a DomainError: the
    consumer keeps it as a dead letter and nothing changes."""
    match reply:
        case OfferAccepted() | OfferDeclined():
            booking, offer = await _lock_offer(conn, reply.offer_id, sender)
            if isinstance(reply, OfferAccepted):
                await store.close_offer(conn, offer.id, state="accepted", reason=None, now=now)
                await _move(
                    conn,
                    d.outbox,
                    msgspec.structs.replace(booking, partner_id=sender),
                    "confirmed",
                    now,
                    entry="offer_accepted",
                    detail={"offer_id": str(offer.id)},
                )
                return
            await store.close_offer(conn, offer.id, state="declined", reason=reply.reason, now=now)
            await store.insert_timeline(
                conn,
                booking.id,
                at=now,
                entry="offer_declined",
                status=booking.status,
                partner_id=sender,
                detail=_without_none(
                    {"offer_id": str(offer.id), "reason": reply.reason, "note": reply.note}
                ),
            )
            await _offer_to_next_partner(conn, d, booking, now)
        case StatusUpdate():
            booking_id = _uuid(reply.booking_id, "booking_id")
            held = await store.lock_booking(conn, booking_id)
            if held is None or held.partner_id != sender:
                raise Conflict(f"partner {sender} holds no booking {reply.booking_id}")
            target = domain.progress_target(held.kind, held.status, held.progress, reply.status)
            await _move(
                conn,
                d.outbox,
                msgspec.structs.replace(held, progress=reply.status),
                target,
                now,
                entry=reply.status,
                detail=_without_none(
                    {
                        "note": reply.note,
                        "driver_name": reply.driver_name,
                        "vehicle": reply.vehicle,
                        "interpreter_name": reply.interpreter_name,
                        "carrier": reply.carrier,
                        "tracking_number": reply.tracking_number,
                        "at": reply.at.isoformat() if reply.at else None,
                    }
                ),
            )


async def _lock_offer(
    conn: Connection, offer_id: str, sender: str
) -> tuple[store.Booking, store.OfferRow]:
    found = await store.get_offer(conn, _uuid(offer_id, "offer_id"))
    if found is None or found.partner_id != sender:
        raise Conflict(f"partner {sender} holds no offer {offer_id}")
    booking = await store.lock_booking(conn, found.booking_id)
    # Read again under the booking's lock: a deadline or another reply may have closed it.
    offer = await store.get_offer(conn, found.id)
    if booking is None or offer is None:  # pragma: no cover - rows are never deleted
        raise RuntimeError("offer or booking vanished")
    if offer.state != "open":
        raise Conflict(f"offer {offer_id} is {offer.state} already: the reply is stale")
    return booking, offer


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid.single(field, "is not a UUID") from None


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# --- deadlines -------------------------------------------------------------------------------


async def expire_due_offers(pool: Pool, d: Dispatch, *, now: datetime, limit: int) -> int:
    """Withdraw offers not answered by their deadline and offer their bookings to the next
    partner; returns how many were claimed."""
    async with transaction(pool) as conn:
        due = await store.claim_due_offers(conn, now, limit)
        for offer_id, booking_id in due:
            offer = await store.get_offer(conn, offer_id)
            booking = await store.get_booking(conn, booking_id)
            if offer is None or booking is None or offer.state != "open":
                continue  # answered between the scan and the lock
            await store.close_offer(
                conn, offer.id, state="expired", reason="no answer by the deadline", now=now
            )
            await _withdraw(
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
            await _offer_to_next_partner(conn, d, booking, now)
    return len(due)


async def _withdraw(
    conn: Connection, d: Dispatch, booking: store.Booking, offer: store.OfferRow, reason: str
) -> None:
    await d.outbox.emit(
        conn,
        PARTNER_OFFERS.subject(partner_id=offer.partner_id, kind=booking.kind),
        OfferWithdrawn(offer_id=str(offer.id), booking_id=str(booking.id), reason=reason),
    )


# --- cancellation ----------------------------------------------------------------------------


async def cancel_booking(
    pool: Pool, d: Dispatch, booking_id: uuid.UUID, *, reason: str, now: datetime
) -> store.Booking:
    async with transaction(pool) as conn:
        booking = await store.lock_booking(conn, booking_id)
        if booking is None:
            raise NotFound(f"booking {booking_id} does not exist")
        return await _cancel(conn, d, booking, reason, now)


async def cancel_inquiry(
    conn: Connection, d: Dispatch, inquiry_id: str, *, reason: str, now: datetime
) -> None:
    """Cancel the inquiry's open bookings; a shipment already on its way is left to arrive."""
    for booking in await store.lock_bookings_of_inquiry(conn, inquiry_id):
        if booking.status in domain.TERMINAL:
            continue
        try:
            domain.check_cancellable(booking.kind, booking.status, booking.progress)
        except Conflict as exc:
            await store.insert_timeline(
                conn,
                booking.id,
                at=now,
                entry="cancellation_refused",
                status=booking.status,
                partner_id=booking.partner_id,
                detail={"reason": exc.detail},
            )
            continue
        await _cancel(conn, d, booking, reason, now)


async def _cancel(
    conn: Connection, d: Dispatch, booking: store.Booking, reason: str, now: datetime
) -> store.Booking:
    domain.check_cancellable(booking.kind, booking.status, booking.progress)
    for offer in await store.offers_of(conn, booking.id):
        # The partner asked and the partner who took it both learn the booking is off.
        if offer.state == "open":
            await store.close_offer(conn, offer.id, state="withdrawn", reason=reason, now=now)
            await _withdraw(conn, d, booking, offer, f"booking cancelled: {reason}")
        elif offer.state == "accepted":
            await _withdraw(conn, d, booking, offer, f"booking cancelled: {reason}")
    return await _move(
        conn, d.outbox, booking, "cancelled", now, entry="cancelled", detail={"reason": reason}
    )


# --- erasure ---------------------------------------------------------------------------------


async def erase_inquiry(conn: Connection, inquiry_id: str, *, now: datetime) -> None:
    """Wipe the traveller from every booking of the inquiry; the anonymous bookings stay."""
    for booking in await store.lock_bookings_of_inquiry(conn, inquiry_id):
        if booking.erased_at is not None:
            continue
        await store.replace_details(conn, booking.id, domain.erased(booking.details), now)
        await store.wipe_timeline_notes(conn, booking.id)
        await store.insert_timeline(
            conn, booking.id, at=now, entry="personal_data_erased", status=booking.status
        )


# --- the partner registry --------------------------------------------------------------------


async def register_partner(pool: Pool, partner: domain.Partner, *, now: datetime) -> None:
    async with transaction(pool) as conn:
        if not await store.insert_partner(conn, partner, now):
            raise Conflict(
                f"partner {partner.id} exists already; PUT /v1/partners/{partner.id} replaces it"
            )


async def put_partner(pool: Pool, partner: domain.Partner, *, now: datetime) -> bool:
    """Create or replace; True when created."""
    async with transaction(pool) as conn:
        return await store.upsert_partner(conn, partner, now)


async def set_partner_active(
    pool: Pool, partner_id: str, active: bool, *, now: datetime
) -> domain.Partner:
    """A deactivated partner is offered nothing new; what it holds stays with it."""
    async with transaction(pool) as conn:
        partner = await store.set_partner_active(conn, partner_id, active, now)
    if partner is None:
        raise NotFound(f"partner {partner_id} does not exist")
    return partner


async def partner(pool: Pool, partner_id: str) -> domain.Partner:
    async with pool.acquire() as conn:
        found = await store.get_partner(conn, partner_id)
    if found is None:
        raise NotFound(f"partner {partner_id} does not exist")
    return found


# --- reading bookings ------------------------------------------------------------------------


async def booking_with_history(
    pool: Pool, booking_id: uuid.UUID
) -> tuple[store.Booking, list[store.TimelineEntry], list[store.OfferRow]]:
    async with pool.acquire() as conn:
        booking = await store.get_booking(conn, booking_id)
        if booking is None:
            raise NotFound(f"booking {booking_id} does not exist")
        return (
            booking,
            await store.timeline(conn, booking_id),
            await store.offers_of(conn, booking_id),
        )
