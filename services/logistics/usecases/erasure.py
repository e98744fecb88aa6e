"""Erasure: the traveller leaves the bookings, the anonymous bookings stay, and every partner that
was offered one of them is asked to erase its copy."""

from __future__ import annotations

from datetime import datetime

from services.logistics import domain
from services.logistics.store import bookings
from services.logistics.usecases.changes import save, with_offers
from services.logistics.usecases.collaborators import BookingCollaborators
from services.runtime.core.db import Connection


async def erase_inquiry(
    conn: Connection, c: BookingCollaborators, inquiry_id: str, *, now: datetime
) -> None:
    """Wipe the traveller from every booking of the inquiry, in the caller's transaction.

    The anonymous details are sealed anew, so the old ciphertext, which any key of the ring
    could still open, is gone from the row rather than left beside a flag."""
    for booking in await bookings.lock_bookings_of_inquiry(conn, c.keys, inquiry_id):
        change = domain.erase(await with_offers(conn, booking), now=now)
        if change is not None:
            await save(conn, c, change)
