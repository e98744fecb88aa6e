"""SQL of treatment offers. One function per statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from services.runtime.core.db import Connection


class OfferRow(msgspec.Struct, frozen=True, kw_only=True):
    inquiry_id: uuid.UUID
    version: int
    state: str
    body: bytes | None
    valid_until: datetime
    sent_by: str
    sent_at: datetime
    accepted_by: str | None


_OFFER = "inquiry_id, version, state, body, valid_until, sent_by, sent_at, accepted_by"


async def next_offer_version(conn: Connection, inquiry_id: uuid.UUID) -> int:
    return int(
        await conn.fetchval(
            "SELECT coalesce(max(version), 0) + 1 FROM offers WHERE inquiry_id = $1", inquiry_id
        )
    )


async def insert_offer(
    conn: Connection,
    *,
    inquiry_id: uuid.UUID,
    version: int,
    body: bytes,
    valid_until: datetime,
    sent_by: str,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO offers (inquiry_id, version, state, body, valid_until, sent_by, sent_at)
           VALUES ($1, $2, 'open', $3, $4, $5, $6)""",
        inquiry_id,
        version,
        body,
        valid_until,
        sent_by,
        now,
    )


async def close_open_offers(
    conn: Connection, inquiry_id: uuid.UUID, state: str, now: datetime
) -> None:
    """Close whatever offer is still open (superseded by a newer one, or withdrawn)."""
    await conn.execute(
        """UPDATE offers SET state = $2, closed_at = $3
           WHERE inquiry_id = $1 AND state = 'open'""",
        inquiry_id,
        state,
        now,
    )


async def find_offer(conn: Connection, inquiry_id: uuid.UUID, version: int) -> OfferRow | None:
    row = await conn.fetchrow(
        f"SELECT {_OFFER} FROM offers WHERE inquiry_id = $1 AND version = $2",
        inquiry_id,
        version,
    )
    return None if row is None else msgspec.convert(dict(row.items()), OfferRow)


async def offers(conn: Connection, inquiry_id: uuid.UUID) -> list[OfferRow]:
    rows = await conn.fetch(
        f"SELECT {_OFFER} FROM offers WHERE inquiry_id = $1 ORDER BY version", inquiry_id
    )
    return [msgspec.convert(dict(r.items()), OfferRow) for r in rows]


async def close_offer(
    conn: Connection,
    inquiry_id: uuid.UUID,
    version: int,
    state: str,
    now: datetime,
    accepted_by: str | None = None,
) -> None:
    await conn.execute(
        """UPDATE offers SET state = $3, closed_at = $4, accepted_by = $5
           WHERE inquiry_id = $1 AND version = $2""",
        inquiry_id,
        version,
        state,
        now,
        accepted_by,
    )


class DueOffer(msgspec.Struct, frozen=True, kw_only=True):
    inquiry_id: uuid.UUID
    version: int
    valid_until: datetime


async def claim_due_offers(conn: Connection, now: datetime, limit: int) -> list[DueOffer]:
    """Open offers past their validity, with their cases locked; SKIP LOCKED so replicas never
    expire one twice, and a case a coordinator is changing right now is left for the next run."""
    rows = await conn.fetch(
        """SELECT o.inquiry_id, o.version, o.valid_until
           FROM offers o JOIN inquiries i ON i.id = o.inquiry_id
           WHERE o.state = 'open' AND o.valid_until <= $1 AND i.status = 'offer_sent'
           ORDER BY o.valid_until LIMIT $2
           FOR UPDATE OF o, i SKIP LOCKED""",
        now,
        limit,
    )
    return [msgspec.convert(dict(r.items()), DueOffer) for r in rows]
