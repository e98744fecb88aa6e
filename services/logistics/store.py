"""SQL of the logistics service: one function per statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from contracts.logistics import BookingDetails, BookingKind, BookingStatus
from services.logistics.domain import Coverage, Partner
from services.runtime.core.db import Connection
from services.runtime.privacy.crypto import KeyRing, from_column, to_column

OfferState = str  # open, accepted, declined, expired, withdrawn


class Booking(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    inquiry_id: str | None
    kind: BookingKind
    status: BookingStatus
    version: int
    details: BookingDetails
    partner_id: str | None
    progress: str | None
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    entry: str
    status: BookingStatus
    partner_id: str | None
    detail: dict[str, Any]


class OfferRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    booking_id: uuid.UUID
    partner_id: str
    sent_at: datetime
    respond_by: datetime
    state: OfferState
    answered_at: datetime | None
    reason: str | None


_BOOKING = """id, inquiry_id, kind, status, version, sealed_details, partner_id, progress,
              created_at, updated_at, erased_at"""
_PARTNER = "id, name, kinds, airports, cities, countries, languages, capabilities, priority, active"
_OFFER = "id, booking_id, partner_id, sent_at, respond_by, state, answered_at, reason"
_details_decoder = msgspec.json.Decoder(BookingDetails)


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
    return Booking(**fields, details=_details_decoder.decode(opened))


def _partner(row: asyncpg.Record) -> Partner:
    return Partner(
        id=row["id"],
        name=row["name"],
        kinds=tuple(row["kinds"]),
        coverage=Coverage(
            airports=tuple(row["airports"]),
            cities=tuple(row["cities"]),
            countries=tuple(row["countries"]),
        ),
        languages=tuple(row["languages"]),
        capabilities=tuple(row["capabilities"]),
        priority=row["priority"],
        active=row["active"],
    )


# --- partners --------------------------------------------------------------------------------


def _partner_args(p: Partner) -> tuple[Any, ...]:
    return (
        p.id,
        p.name,
        list(p.kinds),
        list(p.coverage.airports),
        list(p.coverage.cities),
        list(p.coverage.countries),
        list(p.languages),
        list(p.capabilities),
        p.priority,
        p.active,
    )


async def insert_partner(conn: Connection, partner: Partner, now: datetime) -> bool:
    """False when a partner with this id exists already."""
    inserted = await conn.fetchval(
        f"""INSERT INTO partners ({_PARTNER}, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
            ON CONFLICT (id) DO NOTHING RETURNING true""",
        *_partner_args(partner),
        now,
    )
    return bool(inserted)


async def upsert_partner(conn: Connection, partner: Partner, now: datetime) -> bool:
    """Create or replace; True when created."""
    created = await conn.fetchval(
        f"""INSERT INTO partners ({_PARTNER}, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kinds = EXCLUDED.kinds,
                airports = EXCLUDED.airports, cities = EXCLUDED.cities,
                countries = EXCLUDED.countries, languages = EXCLUDED.languages,
                capabilities = EXCLUDED.capabilities, priority = EXCLUDED.priority,
                active = EXCLUDED.active, updated_at = EXCLUDED.updated_at
            RETURNING xmax = 0""",
        *_partner_args(partner),
        now,
    )
    return bool(created)


async def get_partner(conn: Connection, partner_id: str) -> Partner | None:
    row = await conn.fetchrow(f"SELECT {_PARTNER} FROM partners WHERE id = $1", partner_id)
    return None if row is None else _partner(row)


async def list_partners(
    conn: Connection, *, kind: str | None, active: bool | None
) -> list[Partner]:
    rows = await conn.fetch(
        f"""SELECT {_PARTNER} FROM partners
            WHERE ($1::text IS NULL OR $1 = ANY(kinds)) AND ($2::boolean IS NULL OR active = $2)
            ORDER BY priority DESC, id""",
        kind,
        active,
    )
    return [_partner(r) for r in rows]


async def set_partner_active(
    conn: Connection, partner_id: str, active: bool, now: datetime
) -> Partner | None:
    row = await conn.fetchrow(
        f"""UPDATE partners SET active = $2, updated_at = $3 WHERE id = $1
            RETURNING {_PARTNER}""",
        partner_id,
        active,
        now,
    )
    return None if row is None else _partner(row)


async def active_partners(conn: Connection, kind: str) -> list[Partner]:
    rows = await conn.fetch(
        f"SELECT {_PARTNER} FROM partners WHERE active AND $1 = ANY(kinds)", kind
    )
    return [_partner(r) for r in rows]


# --- bookings --------------------------------------------------------------------------------


async def insert_booking(
    conn: Connection,
    keys: KeyRing,
    *,
    id: uuid.UUID,
    inquiry_id: str | None,
    origin: str | None,
    position: int | None,
    details: BookingDetails,
    kind: BookingKind,
    now: datetime,
) -> bool:
    """False when the event that requested it was applied before (under another id)."""
    sealed, key_id = _seal(keys, id, details)
    inserted = await conn.fetchval(
        """INSERT INTO bookings (id, inquiry_id, origin, position, kind, status, version,
                                 sealed_details, key_id, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, 'requested', 1, $6, $7, $8, $8)
           ON CONFLICT (inquiry_id, origin, position) DO NOTHING RETURNING true""",
        id,
        inquiry_id,
        origin,
        position,
        kind,
        sealed,
        key_id,
        now,
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


# --- offers ----------------------------------------------------------------------------------


async def insert_offer(
    conn: Connection,
    *,
    id: uuid.UUID,
    booking_id: uuid.UUID,
    partner_id: str,
    sent_at: datetime,
    respond_by: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO offers (id, booking_id, partner_id, sent_at, respond_by, state)
           VALUES ($1, $2, $3, $4, $5, 'open')""",
        id,
        booking_id,
        partner_id,
        sent_at,
        respond_by,
    )


async def get_offer(conn: Connection, offer_id: uuid.UUID) -> OfferRow | None:
    row = await conn.fetchrow(f"SELECT {_OFFER} FROM offers WHERE id = $1", offer_id)
    return None if row is None else msgspec.convert(dict(row.items()), OfferRow)


async def offers_of(conn: Connection, booking_id: uuid.UUID) -> list[OfferRow]:
    rows = await conn.fetch(
        f"SELECT {_OFFER} FROM offers WHERE booking_id = $1 ORDER BY sent_at, id", booking_id
    )
    return [msgspec.convert(dict(r.items()), OfferRow) for r in rows]


async def ids_of_inquiry(conn: Connection, inquiry_id: str) -> list[str]:
    """The ids of the inquiry's bookings and of their offers: what messages about it carry."""
    rows = await conn.fetch(
        """SELECT b.id::text AS id FROM bookings b WHERE b.inquiry_id = $1
           UNION ALL
           SELECT o.id::text FROM offers o JOIN bookings b ON b.id = o.booking_id
           WHERE b.inquiry_id = $1""",
        inquiry_id,
    )
    return [r["id"] for r in rows]


async def partners_offered(conn: Connection, inquiry_id: str) -> list[str]:
    """Every partner that was offered a booking of the inquiry."""
    rows = await conn.fetch(
        """SELECT DISTINCT o.partner_id FROM offers o JOIN bookings b ON b.id = o.booking_id
           WHERE b.inquiry_id = $1 ORDER BY 1""",
        inquiry_id,
    )
    return [r["partner_id"] for r in rows]


async def close_offer(
    conn: Connection, offer_id: uuid.UUID, *, state: OfferState, reason: str | None, now: datetime
) -> None:
    await conn.execute(
        "UPDATE offers SET state = $2, reason = $3, answered_at = $4 WHERE id = $1",
        offer_id,
        state,
        reason,
        now,
    )


async def claim_due_offers(
    conn: Connection, now: datetime, limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(offer id, booking id) of open offers past their deadline. Their bookings are locked, and
    bookings another replica (or a reply) holds are skipped: every change of a booking happens
    under its row lock, so no deadline is acted on twice."""
    rows = await conn.fetch(
        """SELECT o.id, o.booking_id FROM offers o JOIN bookings b ON b.id = o.booking_id
           WHERE o.state = 'open' AND o.respond_by <= $1
           ORDER BY o.respond_by LIMIT $2
           FOR UPDATE OF b SKIP LOCKED""",
        now,
        limit,
    )
    return [(r["id"], r["booking_id"]) for r in rows]
