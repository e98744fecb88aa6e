"""SQL of bookings and their timeline: one function per statement, connection first. Their
details are sealed with the service's key ring in the row (see `details_aad`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from contracts.logistics import Arrangement, BookingDetails, BookingStatus
from services.logistics.domain.model import Booking, TimelineEntry
from services.runtime.core.db import Connection
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

_BOOKING = """id, inquiry_id, kind, status, version, sealed_details, partner_id, progress,
              created_at, updated_at, erased_at, sealed_arrangement, support_case_id"""
_details_decoder = msgspec.json.Decoder(BookingDetails)
_arrangement_decoder = msgspec.json.Decoder(Arrangement)


def arrangement_aad(booking_id: uuid.UUID) -> bytes:
    return f"booking:{booking_id}:arrangement".encode()


def details_aad(booking_id: uuid.UUID) -> bytes:
    """Binds sealed details to their booking: moved to another row, they fail to open."""
    return f"booking:{booking_id}:details".encode()


def _seal(keys: KeyRing, booking_id: uuid.UUID, details: BookingDetails) -> tuple[bytes, str]:
    """The sealed details column and the id of the key that sealed it."""
    sealed = keys.encrypt_json(details, aad=details_aad(booking_id))
    return to_column(sealed), sealed.key_id


def _booking(row: asyncpg.Record, keys: KeyRing) -> Booking:
    fields = dict(row.items())
    sealed = from_column(fields.pop("sealed_details"))
    opened = keys.decrypt(sealed, aad=details_aad(fields["id"]))
    arrangement = fields.pop("sealed_arrangement")
    return Booking(
        **fields,
        details=_details_decoder.decode(opened),
        arrangement=None
        if arrangement is None
        else _arrangement_decoder.decode(
            keys.decrypt(from_column(arrangement), aad=arrangement_aad(fields["id"]))
        ),
    )


async def insert_booking(
    conn: Connection,
    keys: KeyRing,
    booking: Booking,
    *,
    origin: str | None,
    position: int | None,
) -> bool:
    """Insert the booking as decided (it may be offered already). False when the event that
    requested it was applied before (under another id)."""
    sealed, key_id = _seal(keys, booking.id, booking.details)
    inserted = await conn.fetchval(
        """INSERT INTO bookings (id, inquiry_id, origin, position, kind, status, version,
                                 partner_id, progress, sealed_details, key_id, created_at,
                                 updated_at, support_case_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (inquiry_id, origin, position) DO NOTHING RETURNING true""",
        booking.id,
        booking.inquiry_id,
        origin,
        position,
        booking.kind,
        booking.status,
        booking.version,
        booking.partner_id,
        booking.progress,
        sealed,
        key_id,
        booking.created_at,
        booking.updated_at,
        booking.support_case_id,
    )
    return bool(inserted)


async def get_booking(conn: Connection, keys: KeyRing, booking_id: uuid.UUID) -> Booking | None:
    row = await conn.fetchrow(f"SELECT {_BOOKING} FROM bookings WHERE id = $1", booking_id)
    return None if row is None else _booking(row, keys)


async def lock_booking(conn: Connection, keys: KeyRing, booking_id: uuid.UUID) -> Booking | None:
    row = await conn.fetchrow(
        f"SELECT {_BOOKING} FROM bookings WHERE id = $1 FOR UPDATE", booking_id
    )
    return None if row is None else _booking(row, keys)


async def statuses_of(
    conn: Connection, booking_ids: list[uuid.UUID]
) -> dict[uuid.UUID, BookingStatus]:
    rows = await conn.fetch(
        "SELECT id, status FROM bookings WHERE id = ANY($1::uuid[])", booking_ids
    )
    return {r["id"]: r["status"] for r in rows}


async def lock_bookings_of_inquiry(
    conn: Connection, keys: KeyRing, inquiry_id: str
) -> list[Booking]:
    rows = await conn.fetch(
        f"""SELECT {_BOOKING} FROM bookings WHERE inquiry_id = $1
            ORDER BY created_at, id FOR UPDATE""",
        inquiry_id,
    )
    return [_booking(r, keys) for r in rows]


async def list_bookings(
    conn: Connection,
    keys: KeyRing,
    *,
    inquiry_id: str | None,
    status: str | None,
    kind: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Booking]:
    rows = await conn.fetch(
        f"""SELECT {_BOOKING} FROM bookings
            WHERE ($1::text IS NULL OR inquiry_id = $1)
              AND ($2::text IS NULL OR status = $2)
              AND ($3::text IS NULL OR kind = $3)
              AND ($4::timestamptz IS NULL OR (created_at, id) > ($4, $5::uuid))
            ORDER BY created_at, id LIMIT $6""",
        inquiry_id,
        status,
        kind,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_booking(r, keys) for r in rows]


async def update_booking_status(
    conn: Connection,
    booking_id: uuid.UUID,
    *,
    status: BookingStatus,
    version: int,
    partner_id: str | None,
    progress: str | None,
    now: datetime,
) -> None:
    await conn.execute(
        """UPDATE bookings SET status = $2, version = $3, partner_id = $4, progress = $5,
                               updated_at = $6
           WHERE id = $1""",
        booking_id,
        status,
        version,
        partner_id,
        progress,
        now,
    )


async def replace_arrangement(
    conn: Connection, keys: KeyRing, booking_id: uuid.UUID, arrangement: Arrangement | None
) -> None:
    """Seal the patient's details of the booking as the partner reported them (None: none)."""
    sealed = (
        None
        if arrangement is None
        else to_column(keys.encrypt_json(arrangement, aad=arrangement_aad(booking_id)))
    )
    await conn.execute(
        "UPDATE bookings SET sealed_arrangement = $2 WHERE id = $1", booking_id, sealed
    )


async def replace_details(
    conn: Connection,
    keys: KeyRing,
    booking_id: uuid.UUID,
    details: BookingDetails,
    erased_at: datetime,
) -> None:
    """Seal `details` anew in place of the old ones, with a fresh nonce and the active key."""
    sealed, key_id = _seal(keys, booking_id, details)
    await conn.execute(
        """UPDATE bookings SET sealed_details = $2, key_id = $3, erased_at = $4, updated_at = $4
           WHERE id = $1""",
        booking_id,
        sealed,
        key_id,
        erased_at,
    )


async def insert_timeline(
    conn: Connection,
    booking_id: uuid.UUID,
    *,
    at: datetime,
    entry: str,
    status: BookingStatus,
    partner_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO booking_timeline (booking_id, at, entry, status, partner_id, detail)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb)""",
        booking_id,
        at,
        entry,
        status,
        partner_id,
        msgspec.json.encode(detail or {}).decode(),
    )


async def timeline(conn: Connection, booking_id: uuid.UUID) -> list[TimelineEntry]:
    rows = await conn.fetch(
        """SELECT at, entry, status, partner_id, detail::text AS detail FROM booking_timeline
           WHERE booking_id = $1 ORDER BY id""",
        booking_id,
    )
    return [
        TimelineEntry(
            at=r["at"],
            entry=r["entry"],
            status=r["status"],
            partner_id=r["partner_id"],
            detail=msgspec.json.decode(r["detail"]),
        )
        for r in rows
    ]


async def wipe_free_text(conn: Connection, booking_id: uuid.UUID) -> None:
    """Free text may name the traveller: a partner's notes, and a cancellation's reason (a
    coordinator's words, carried over from the inquiry) on the timeline and on the offers it
    withdrew. The facts around it stay, and so do decline reasons, which are codes."""
    await conn.execute(
        """UPDATE booking_timeline
           SET detail = CASE WHEN entry = 'cancelled' THEN detail - 'note' - 'reason'
                             ELSE detail - 'note' END
           WHERE booking_id = $1""",
        booking_id,
    )
    await conn.execute(
        "UPDATE offers SET reason = NULL WHERE booking_id = $1 AND state = 'withdrawn'",
        booking_id,
    )
