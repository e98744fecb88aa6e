"""Erasure: the traveller leaves the bookings, the anonymous bookings stay."""

from __future__ import annotations

from datetime import datetime

from services.logistics import domain, store
from services.runtime.crypto import KeyRing
from services.runtime.db import Connection


async def erase_inquiry(conn: Connection, keys: KeyRing, inquiry_id: str, *, now: datetime) -> None:
    """Wipe the traveller from every booking of the inquiry; the anonymous bookings stay.

    The anonymous details are sealed anew, so the old ciphertext, which any key of the ring
    could still open, is gone from the row rather than left beside a flag."""
    for booking in await store.lock_bookings_of_inquiry(conn, keys, inquiry_id):
        if booking.erased_at is not None:
            continue
        await store.replace_details(conn, keys, booking.id, domain.erased(booking.details), now)
        await store.wipe_timeline_notes(conn, booking.id)
        await store.insert_timeline(
            conn, booking.id, at=now, entry="personal_data_erased", status=booking.status
        )
