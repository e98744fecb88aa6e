"""Cancelling bookings, one by a coordinator or all open ones of a cancelled inquiry; the
partners concerned are told."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.logistics import domain, store
from services.logistics.usecases.dispatch import Dispatch, move, withdraw
from services.runtime.core.db import Connection, Pool, transaction
from services.runtime.core.errors import Conflict, NotFound


async def cancel_booking(
    pool: Pool, d: Dispatch, booking_id: uuid.UUID, *, reason: str, now: datetime
) -> store.Booking:
    async with transaction(pool) as conn:
        booking = await store.lock_booking(conn, d.keys, booking_id)
        if booking is None:
            raise NotFound(f"booking {booking_id} does not exist")
        return await _cancel(conn, d, booking, reason, now)


async def cancel_inquiry(
    conn: Connection, d: Dispatch, inquiry_id: str, *, reason: str, now: datetime
) -> None:
    """Cancel the inquiry's open bookings; a shipment already on its way is left to arrive."""
    for booking in await store.lock_bookings_of_inquiry(conn, d.keys, inquiry_id):
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


CANCELLED = "booking cancelled"


async def _cancel(
    conn: Connection, d: Dispatch, booking: store.Booking, reason: str, now: datetime
) -> store.Booking:
    domain.check_cancellable(booking.kind, booking.status, booking.progress)
    # Partners learn that the booking is off, never why: the coordinator's reason is free text
    # that may name the traveller or the illness, and no partner's job needs it.
    for offer in await store.offers_of(conn, booking.id):
        # The partner asked and the partner who took it both learn the booking is off.
        if offer.state == "open":
            await store.close_offer(conn, offer.id, state="withdrawn", reason=reason, now=now)
            await withdraw(conn, d, booking, offer, CANCELLED)
        elif offer.state == "accepted":
            await withdraw(conn, d, booking, offer, CANCELLED)
    return await move(
        conn, d.outbox, booking, "cancelled", now, entry="cancelled", detail={"reason": reason}
    )
