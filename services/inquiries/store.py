"""SQL of the inquiries service: one function per statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from services.inquiries.requests import TimelineEntry
from services.runtime.core.db import Connection


class InquiryRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: str
    version: int
    condition_slug: str
    services: list[str]
    submitted_at: datetime
    updated_at: datetime


async def insert_inquiry(
    conn: Connection,
    *,
    id: uuid.UUID,
    condition_slug: str,
    preferred_country: str,
    services: list[str],
    source: str,
    personal: bytes,
    key_id: str,
    access_token_hash: bytes,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO inquiries (id, status, version, condition_slug, preferred_country,
                                  services, source, personal, key_id, access_token_hash,
                                  submitted_at, updated_at)
           VALUES ($1, 'submitted', 1, $2, $3, $4, $5, $6, $7, $8, $9, $9)""",
        id,
        condition_slug,
        preferred_country,
        services,
        source,
        personal,
        key_id,
        access_token_hash,
        now,
    )


async def insert_consent(
    conn: Connection,
    *,
    inquiry_id: uuid.UUID,
    purpose: str,
    granted: bool,
    version: str,
    given_by: str,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO consents (inquiry_id, purpose, granted, version, given_by, at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        inquiry_id,
        purpose,
        granted,
        version,
        given_by,
        now,
    )


async def insert_timeline(
    conn: Connection, inquiry_id: uuid.UUID, kind: str, detail: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO timeline (inquiry_id, at, kind, detail) VALUES ($1, $2, $3, $4)",
        inquiry_id,
        now,
        kind,
        msgspec.json.encode(detail).decode(),
    )


async def find_by_token(
    conn: Connection, inquiry_id: uuid.UUID, token_hash: bytes
) -> InquiryRow | None:
    row = await conn.fetchrow(
        """SELECT id, status, version, condition_slug, services, submitted_at, updated_at
           FROM inquiries WHERE id = $1 AND access_token_hash = $2""",
        inquiry_id,
        token_hash,
    )
    return None if row is None else msgspec.convert(dict(row.items()), InquiryRow)


async def timeline(conn: Connection, inquiry_id: uuid.UUID) -> list[TimelineEntry]:
    rows = await conn.fetch(
        "SELECT at, kind, detail FROM timeline WHERE inquiry_id = $1 ORDER BY id", inquiry_id
    )
    return [
        TimelineEntry(at=r["at"], kind=r["kind"], detail=msgspec.json.decode(r["detail"]))
        for r in rows
    ]


class StoredSubmission(msgspec.Struct, frozen=True):
    request_hash: bytes
    response: bytes


async def find_submission(conn: Connection, source: str, key: str) -> StoredSubmission | None:
    row = await conn.fetchrow(
        "SELECT request_hash, response FROM idempotent_submissions WHERE source = $1 AND key = $2",
        source,
        key,
    )
    return None if row is None else StoredSubmission(bytes(row[0]), bytes(row[1]))


async def record_submission(
    conn: Connection,
    *,
    source: str,
    key: str,
    request_hash: bytes,
    inquiry_id: uuid.UUID,
    response: bytes,
    now: datetime,
) -> bool:
    """False when a racing request with the same key recorded its submission first."""
    inserted = await conn.fetchval(
        """INSERT INTO idempotent_submissions
               (source, key, request_hash, inquiry_id, response, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (source, key) DO NOTHING RETURNING true""",
        source,
        key,
        request_hash,
        inquiry_id,
        response,
        now,
    )
    return bool(inserted)


class CaseRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: str
    version: int
    condition_slug: str
    preferred_country: str
    services: list[str]
    source: str
    coordinator: str | None
    personal: bytes | None
    submitted_at: datetime
    updated_at: datetime


_CASE = """id, status, version, condition_slug, preferred_country, services, source, coordinator,
    personal, submitted_at, updated_at"""


def _case(row: Any) -> CaseRow:
    return msgspec.convert(dict(row.items()), CaseRow)


async def find_case(conn: Connection, inquiry_id: uuid.UUID) -> CaseRow | None:
    row = await conn.fetchrow(f"SELECT {_CASE} FROM inquiries WHERE id = $1", inquiry_id)
    return None if row is None else _case(row)


async def lock_case(conn: Connection, inquiry_id: uuid.UUID) -> CaseRow | None:
    """The case, locked until the transaction ends: every write to a case goes through here."""
    row = await conn.fetchrow(f"SELECT {_CASE} FROM inquiries WHERE id = $1 FOR UPDATE", inquiry_id)
    return None if row is None else _case(row)


async def lock_case_by_token(
    conn: Connection, inquiry_id: uuid.UUID, token_hash: bytes
) -> CaseRow | None:
    row = await conn.fetchrow(
        f"""SELECT {_CASE} FROM inquiries WHERE id = $1 AND access_token_hash = $2
            FOR UPDATE""",
        inquiry_id,
        token_hash,
    )
    return None if row is None else _case(row)


async def set_status(
    conn: Connection, inquiry_id: uuid.UUID, status: str, now: datetime
) -> CaseRow:
    """Every change to a case bumps its version, which If-Match compares against."""
    row = await conn.fetchrow(
        f"""UPDATE inquiries SET status = $2, version = version + 1, updated_at = $3
            WHERE id = $1 RETURNING {_CASE}""",
        inquiry_id,
        status,
        now,
    )
    return _case(row)


async def set_coordinator(
    conn: Connection, inquiry_id: uuid.UUID, coordinator: str | None, now: datetime
) -> CaseRow:
    row = await conn.fetchrow(
        f"""UPDATE inquiries SET coordinator = $2, version = version + 1, updated_at = $3
            WHERE id = $1 RETURNING {_CASE}""",
        inquiry_id,
        coordinator,
        now,
    )
    return _case(row)


class CaseFilter(msgspec.Struct, frozen=True, kw_only=True):
    status: str | None = None
    condition_slug: str | None = None
    submitted_from: datetime | None = None
    submitted_before: datetime | None = None
    coordinator: str | None = None


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
        f"""SELECT {_CASE} FROM inquiries
            WHERE ($1::text IS NULL OR status = $1)
              AND ($2::text IS NULL OR condition_slug = $2)
              AND ($3::timestamptz IS NULL OR submitted_at >= $3)
              AND ($4::timestamptz IS NULL OR submitted_at < $4)
              AND ($5::text IS NULL OR coordinator = $5)
              AND ($6::timestamptz IS NULL OR (submitted_at, id) < ($6, $7::uuid))
            ORDER BY submitted_at DESC, id DESC LIMIT $8""",
        where.status,
        where.condition_slug,
        where.submitted_from,
        where.submitted_before,
        where.coordinator,
        at,
        last_id,
        limit,
    )
    return [_case(r) for r in rows]


class ConsentRow(msgspec.Struct, frozen=True, kw_only=True):
    purpose: str
    granted: bool
    version: str
    given_by: str
    at: datetime


async def consents(conn: Connection, inquiry_id: uuid.UUID) -> list[ConsentRow]:
    """The whole consent log of a case, oldest first."""
    rows = await conn.fetch(
        """SELECT purpose, granted, version, given_by, at FROM consents
           WHERE inquiry_id = $1 ORDER BY id""",
        inquiry_id,
    )
    return [msgspec.convert(dict(r.items()), ConsentRow) for r in rows]


async def current_consents(conn: Connection, inquiry_id: uuid.UUID) -> dict[str, bool]:
    """Per purpose, whether the latest word of the patient is a grant."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (purpose) purpose, granted FROM consents
           WHERE inquiry_id = $1 ORDER BY purpose, id DESC""",
        inquiry_id,
    )
    return {r["purpose"]: r["granted"] for r in rows}


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


async def claim_due_offers(
    conn: Connection, now: datetime, limit: int
) -> list[tuple[uuid.UUID, int]]:
    """Open offers past their validity, with their cases locked; SKIP LOCKED so replicas never
    expire one twice, and a case a coordinator is changing right now is left for the next run."""
    rows = await conn.fetch(
        """SELECT o.inquiry_id, o.version FROM offers o JOIN inquiries i ON i.id = o.inquiry_id
           WHERE o.state = 'open' AND o.valid_until <= $1 AND i.status = 'offer_sent'
           ORDER BY o.valid_until LIMIT $2
           FOR UPDATE OF o, i SKIP LOCKED""",
        now,
        limit,
    )
    return [(r["inquiry_id"], r["version"]) for r in rows]


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
