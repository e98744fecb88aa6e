"""Erasure: the traveller leaves the bookings, the anonymous bookings stay."""

from __future__ import annotations

from datetime import datetime

from services.logistics import domain, store
from services.runtime.db import Connection


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
