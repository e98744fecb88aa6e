"""Cancelling bookings, one by a coordinator or all open ones of a cancelled inquiry; the
partners concerned are told."""

from __future__ import annotations

import uuid
from datetime import datetime

from services.logistics import domain
from services.logistics.store import bookings
from services.logistics.usecases.changes import lock, save, with_offers
from services.logistics.usecases.collaborators import BookingCollaborators
from services.runtime.core.db import Connection, transaction
from services.runtime.core.errors import NotFound


async def cancel_booking(
    c: BookingCollaborators, booking_id: uuid.UUID, *, reason: str, now: datetime
) -> domain.Booking:
    async with transaction(c.pool) as conn:
        state = await lock(conn, c.keys, booking_id)
        if state is None:
            raise NotFound(f"booking {booking_id} does not exist")
        change = domain.cancel(state, reason=reason, now=now)
        await save(conn, c, change)
        return change.booking


async def cancel_inquiry(
    conn: Connection, c: BookingCollaborators, inquiry_id: str, *, reason: str, now: datetime
) -> None:
    """Cancel the inquiry's open bookings; a shipment already on its way is left to arrive."""
    for booking in await bookings.lock_bookings_of_inquiry(conn, c.keys, inquiry_id):
        change = domain.cancel_with_inquiry(
            await with_offers(conn, booking), reason=reason, now=now
        )
        if change is not None:
            await save(conn, c, change)
