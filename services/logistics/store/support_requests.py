"""What a partner's support request is checked against: a booking it was offered."""

from __future__ import annotations

import uuid

from services.runtime.core.db import Connection


async def held_booking(
    conn: Connection, partner_id: str, booking_id: uuid.UUID
) -> tuple[str | None, str] | None:
    """(inquiry id, kind) of the booking when `partner_id` was offered it; None otherwise."""
    row = await conn.fetchrow(
        """SELECT b.inquiry_id, b.kind FROM bookings b
           WHERE b.id = $2
             AND EXISTS (SELECT 1 FROM offers o WHERE o.booking_id = b.id AND o.partner_id = $1)""",
        partner_id,
        booking_id,
    )
    return None if row is None else (row["inquiry_id"], row["kind"])
