"""SQL of the billing stubs erasure leaves: one function per statement, connection first."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec

from services.inquiries.domain.billing import BookingLine
from services.runtime.core.db import Connection


async def booking_lines(conn: Connection, inquiry_id: uuid.UUID) -> list[BookingLine]:
    rows = await conn.fetch(
        """SELECT booking_id, kind, status, partner_name FROM booking_progress
           WHERE inquiry_id = $1 ORDER BY changed_at, booking_id""",
        inquiry_id,
    )
    return [msgspec.convert(dict(r.items()), BookingLine) for r in rows]


async def insert_stub(
    conn: Connection, inquiry_id: uuid.UUID, stub: bytes, retain_until: date
) -> None:
    await conn.execute(
        """INSERT INTO billing_stubs (inquiry_id, stub, retain_until)
           VALUES ($1, $2::jsonb, $3)""",
        inquiry_id,
        stub.decode(),
        retain_until,
    )


async def kept_until(conn: Connection, inquiry_id: uuid.UUID) -> date | None:
    """The last day the case's billing stub is kept; None when it has none."""
    found: date | None = await conn.fetchval(
        "SELECT retain_until FROM billing_stubs WHERE inquiry_id = $1", inquiry_id
    )
    return found


async def delete_stubs_past(conn: Connection, today: date) -> int:
    """Delete the stubs whose accounting period ended before `today`; how many."""
    deleted = await conn.fetch(
        "DELETE FROM billing_stubs WHERE retain_until < $1 RETURNING inquiry_id", today
    )
    return len(deleted)


async def count_stubs_past(conn: Connection, today: date) -> int:
    return int(
        await conn.fetchval("SELECT count(*) FROM billing_stubs WHERE retain_until < $1", today)
    )
