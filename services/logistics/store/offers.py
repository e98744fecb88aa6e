"""SQL of the offers made to partners: one function per statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from services.logistics.domain.model import OfferRow, OfferState
from services.runtime.core.db import Connection

_OFFER = "id, booking_id, partner_id, sent_at, respond_by, state, answered_at, reason"
# The same columns of offers aliased `o`, for statements that join them.
_OFFER_O = ", ".join(f"o.{column}" for column in _OFFER.split(", "))


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


async def offers_and_partner_names(
    conn: Connection, booking_id: uuid.UUID
) -> tuple[list[OfferRow], dict[str, str]]:
    """The booking's offers (oldest first) and the names of the partners they were made to
    (the one that holds the booking is among them), in one statement: read with every
    decision about a booking, under its lock."""
    rows = await conn.fetch(
        f"""SELECT {_OFFER_O}, p.name AS partner_name
            FROM offers o LEFT JOIN partners p ON p.id = o.partner_id
            WHERE o.booking_id = $1 ORDER BY o.sent_at, o.id""",
        booking_id,
    )
    found = [
        msgspec.convert({k: v for k, v in r.items() if k != "partner_name"}, OfferRow) for r in rows
    ]
    names = {r["partner_id"]: r["partner_name"] for r in rows if r["partner_name"] is not None}
    return found, names


async def open_offers_of(conn: Connection, partner_id: str, now: datetime) -> list[OfferRow]:
    """The partner's offers still open and before their deadline, oldest first."""
    rows = await conn.fetch(
        f"""SELECT {_OFFER} FROM offers
            WHERE partner_id = $1 AND state = 'open' AND respond_by > $2
            ORDER BY sent_at, id""",
        partner_id,
        now,
    )
    return [msgspec.convert(dict(r.items()), OfferRow) for r in rows]
