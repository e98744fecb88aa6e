"""SQL of the inquiries service: one function per statement, connection first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from services.inquiries.requests import TimelineEntry
from services.runtime.db import Connection


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
