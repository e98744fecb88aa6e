"""SQL of intake: new inquiries, idempotent submissions, the patient's token, and the conditions
an inquiry may name (learned from content events). One function per statement, connection first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec

from services.inquiries.store.traces import CaseTrace
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
    consents: Sequence[tuple[str, bool]],
    consent_version: str,
    given_by: str,
    trace: CaseTrace,
    now: datetime,
) -> None:
    """The inquiry as submitted, in one statement: its row, the patient's consent answers (one
    row per purpose answered; one left out has no row and counts as not given) and the trace
    its later events join. A submission is the busiest write; a round trip each was a third
    of its transaction's statements. (The consents' and the trace's foreign keys are checked
    at the statement's end, when the inquiry's row is there.)"""
    await conn.execute(
        """WITH inquiry AS (
               INSERT INTO inquiries (id, status, version, condition_slug, preferred_country,
                                      services, source, personal, key_id, access_token_hash,
                                      submitted_at, updated_at)
               VALUES ($1, 'submitted', 1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
               RETURNING id
           ), consent AS (
               INSERT INTO consents (inquiry_id, purpose, granted, version, given_by, at)
               SELECT inquiry.id, answer.purpose, answer.granted, $12, $13, $9
               FROM inquiry, unnest($10::text[], $11::boolean[]) AS answer (purpose, granted)
           )
           INSERT INTO case_traces (inquiry_id, correlation_id, traceparent, tracestate)
           SELECT inquiry.id, $14, $15, $16 FROM inquiry""",
        id,
        condition_slug,
        preferred_country,
        services,
        source,
        personal,
        key_id,
        access_token_hash,
        now,
        [purpose for purpose, _ in consents],
        [granted for _, granted in consents],
        consent_version,
        given_by,
        trace.correlation_id,
        trace.trace.traceparent,
        trace.trace.tracestate,
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


class StoredSubmission(msgspec.Struct, frozen=True):
    request_hash: bytes
    response: bytes


async def find_submission(
    conn: Connection, consumer_id: uuid.UUID, key: str
) -> StoredSubmission | None:
    row = await conn.fetchrow(
        """SELECT request_hash, response FROM idempotent_submissions
           WHERE consumer_id = $1 AND key = $2""",
        consumer_id,
        key,
    )
    return None if row is None else StoredSubmission(bytes(row[0]), bytes(row[1]))


async def record_submission(
    conn: Connection,
    *,
    consumer_id: uuid.UUID,
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
               (consumer_id, source, key, request_hash, inquiry_id, response, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (consumer_id, key) DO NOTHING RETURNING true""",
        consumer_id,
        source,
        key,
        request_hash,
        inquiry_id,
        response,
        now,
    )
    return bool(inserted)


async def learn_condition(
    conn: Connection, slug: str, revision: int, locales: list[str], previous_slugs: list[str]
) -> None:
    """Revisions order the facts: a late, older event never undoes a newer one."""
    await conn.execute(
        """INSERT INTO known_conditions (slug, revision, locales) VALUES ($1, $2, $3)
           ON CONFLICT (slug) DO UPDATE SET revision = EXCLUDED.revision,
               locales = EXCLUDED.locales
           WHERE known_conditions.revision <= EXCLUDED.revision""",
        slug,
        revision,
        locales,
    )
    await conn.execute(
        "DELETE FROM known_conditions WHERE slug = ANY($1::text[])",
        previous_slugs,
    )


async def forget_condition(conn: Connection, slug: str, revision: int) -> None:
    await conn.execute(
        "DELETE FROM known_conditions WHERE slug = $1 AND revision <= $2",
        slug,
        revision,
    )


async def is_known_condition(conn: Connection, slug: str) -> bool:
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM known_conditions WHERE slug = $1)", slug)
    )
