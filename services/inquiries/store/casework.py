"""SQL of casework: the coordinators' list of cases, notes and case records. One function per
statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from services.inquiries.store.cases import CASE_COLUMNS, CaseRow, case_row
from services.runtime.core.db import Connection


class CaseFilter(msgspec.Struct, frozen=True, kw_only=True):
    status: str | None = None
    condition_slug: str | None = None
    submitted_from: datetime | None = None
    submitted_before: datetime | None = None
    coordinator: str | None = None
    # A coordinator's view: their cases and the unassigned ones (None: every case).
    viewer: str | None = None
    unassigned: bool = False
    # Only cases whose open offer lapses before this moment (the offers expiring soon).
    offer_expires_before: datetime | None = None


async def list_cases(
    conn: Connection,
    where: CaseFilter,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[CaseRow]:
    """Newest first; `after` is the last (submitted_at, id) of the previous page (keyset)."""
    at, last_id = after if after is not None else (None, None)
    rows = await conn.fetch(
        f"""SELECT {CASE_COLUMNS} FROM inquiries
            WHERE ($1::text IS NULL OR status = $1)
              AND ($2::text IS NULL OR condition_slug = $2)
              AND ($3::timestamptz IS NULL OR submitted_at >= $3)
              AND ($4::timestamptz IS NULL OR submitted_at < $4)
              AND ($5::text IS NULL OR coordinator = $5)
              AND ($6::timestamptz IS NULL OR (submitted_at, id) < ($6, $7::uuid))
              AND ($9::text IS NULL OR coordinator IS NULL OR coordinator = $9)
              AND (NOT $10::boolean OR coordinator IS NULL)
              AND ($11::timestamptz IS NULL OR EXISTS (
                    SELECT 1 FROM offers o WHERE o.inquiry_id = inquiries.id
                      AND o.state = 'open' AND o.valid_until < $11))
            ORDER BY submitted_at DESC, id DESC LIMIT $8""",
        where.status,
        where.condition_slug,
        where.submitted_from,
        where.submitted_before,
        where.coordinator,
        at,
        last_id,
        limit,
        where.viewer,
        where.unassigned,
        where.offer_expires_before,
    )
    return [case_row(r) for r in rows]


class NoteRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    author: str
    body: bytes | None
    at: datetime


async def insert_note(
    conn: Connection,
    *,
    id: uuid.UUID,
    inquiry_id: uuid.UUID,
    author: str,
    body: bytes,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO notes (id, inquiry_id, author, body, at) VALUES ($1, $2, $3, $4, $5)",
        id,
        inquiry_id,
        author,
        body,
        now,
    )


async def notes(conn: Connection, inquiry_id: uuid.UUID) -> list[NoteRow]:
    rows = await conn.fetch(
        "SELECT id, author, body, at FROM notes WHERE inquiry_id = $1 ORDER BY at, id",
        inquiry_id,
    )
    return [msgspec.convert(dict(r.items()), NoteRow) for r in rows]


async def insert_case_record(
    conn: Connection,
    *,
    inquiry_id: uuid.UUID,
    kind: str,
    body: bytes,
    recorded_by: str,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO case_records (inquiry_id, kind, body, recorded_by, at)
           VALUES ($1, $2, $3, $4, $5)""",
        inquiry_id,
        kind,
        body,
        recorded_by,
        now,
    )


async def case_record(conn: Connection, inquiry_id: uuid.UUID, kind: str) -> bytes | None:
    raw = await conn.fetchval(
        "SELECT body FROM case_records WHERE inquiry_id = $1 AND kind = $2", inquiry_id, kind
    )
    return None if raw is None else bytes(raw)


async def hold_inquiry(conn: Connection, inquiry_id: uuid.UUID) -> bool:
    """Whether the inquiry exists, held for the transaction (FOR KEY SHARE) before anything of
    it is written: an erasure holding it (FOR UPDATE) goes first. Without it, a booking's
    progress locked its booking row, then waited on the inquiry for its timeline entry, while
    the erasure held the inquiry and waited on that booking row: a deadlock."""
    return (
        await conn.fetchval("SELECT 1 FROM inquiries WHERE id = $1 FOR KEY SHARE", inquiry_id)
        is not None
    )


async def record_booking_progress(
    conn: Connection,
    *,
    booking_id: str,
    inquiry_id: uuid.UUID,
    kind: str,
    status: str,
    version: int,
    partner_name: str | None,
    progress: str | None,
    changed_at: datetime,
    arrangement: bytes | None = None,
) -> bool:
    """Keep the newest version per booking; False when a newer (or the same) one is known."""
    recorded = await conn.fetchval(
        """INSERT INTO booking_progress (booking_id, inquiry_id, kind, status, version,
                                         partner_name, progress, changed_at, arrangement)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (booking_id) DO UPDATE SET status = EXCLUDED.status,
               version = EXCLUDED.version, partner_name = EXCLUDED.partner_name,
               progress = EXCLUDED.progress, changed_at = EXCLUDED.changed_at,
               arrangement = EXCLUDED.arrangement
           WHERE booking_progress.version < EXCLUDED.version
           RETURNING true""",
        booking_id,
        inquiry_id,
        kind,
        status,
        version,
        partner_name,
        progress,
        changed_at,
        arrangement,
    )
    return bool(recorded)


class BookingRow(msgspec.Struct, frozen=True, kw_only=True):
    booking_id: str
    kind: str
    status: str
    partner_name: str | None
    progress: str | None
    arrangement: bytes | None


async def bookings_shown(
    conn: Connection, inquiry_id: uuid.UUID, statuses: tuple[str, ...]
) -> list[BookingRow]:
    rows = await conn.fetch(
        """SELECT booking_id, kind, status, partner_name, progress, arrangement
           FROM booking_progress WHERE inquiry_id = $1 AND status = ANY($2::text[])
           ORDER BY changed_at, booking_id""",
        inquiry_id,
        list(statuses),
    )
    return [msgspec.convert(dict(r.items()), BookingRow) for r in rows]
