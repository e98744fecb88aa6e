"""SQL of medical review: reviewer profiles, sign-offs, who wrote a document's revisions, and
the review queue editors work from. One function per statement, connection first, Structs out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec

from services.content.domain.reviews import ReviewerProfile, SignOff
from services.runtime.core.db import Connection


class QueueRow(msgspec.Struct, frozen=True, kw_only=True):
    """A published medical document and the sign-off it carries (None: unreviewed)."""

    kind: str
    slug: str
    revision: int
    published_at: datetime
    review: SignOff | None


async def upsert_reviewer(conn: Connection, profile: ReviewerProfile, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO reviewers (person, name, qualification, registration_number, active,
                                  updated_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (person) DO UPDATE SET name = EXCLUDED.name,
               qualification = EXCLUDED.qualification,
               registration_number = EXCLUDED.registration_number, active = EXCLUDED.active,
               updated_at = EXCLUDED.updated_at""",
        profile.person,
        profile.name,
        profile.qualification,
        profile.registration_number,
        profile.active,
        now,
    )


async def find_reviewer(conn: Connection, person: str) -> ReviewerProfile | None:
    row = await conn.fetchrow(
        """SELECT person, name, qualification, registration_number, active FROM reviewers
           WHERE person = $1""",
        person,
    )
    return None if row is None else msgspec.convert(dict(row.items()), ReviewerProfile)


async def list_reviewers(conn: Connection) -> list[ReviewerProfile]:
    rows = await conn.fetch(
        """SELECT person, name, qualification, registration_number, active FROM reviewers
           ORDER BY person"""
    )
    return [msgspec.convert(dict(r.items()), ReviewerProfile) for r in rows]


async def revision_authors(conn: Connection, document_id: uuid.UUID) -> frozenset[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT author FROM revisions WHERE document_id = $1", document_id
    )
    return frozenset(r["author"] for r in rows)


async def insert_sign_off(conn: Connection, sign_off: SignOff) -> None:
    await conn.execute(
        """INSERT INTO sign_offs (document_id, revision, reviewer, reviewed_at, next_review_due,
                                  note)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        sign_off.document_id,
        sign_off.revision,
        msgspec.json.encode(sign_off.reviewer).decode(),
        sign_off.reviewed_at,
        sign_off.next_review_due,
        sign_off.note,
    )


async def latest_sign_off(conn: Connection, document_id: uuid.UUID) -> SignOff | None:
    row = await conn.fetchrow(
        """SELECT document_id, revision, reviewer, reviewed_at, next_review_due, note
           FROM sign_offs WHERE document_id = $1 ORDER BY id DESC LIMIT 1""",
        document_id,
    )
    return None if row is None else _sign_off(row)


async def list_sign_offs(conn: Connection, document_id: uuid.UUID) -> list[SignOff]:
    rows = await conn.fetch(
        """SELECT document_id, revision, reviewer, reviewed_at, next_review_due, note
           FROM sign_offs WHERE document_id = $1 ORDER BY id""",
        document_id,
    )
    return [_sign_off(r) for r in rows]


async def review_queue(conn: Connection, *, due_before: date | None) -> list[QueueRow]:
    """Published medical documents with no sign-off, and (with `due_before`) those whose
    review fell due before that day; the most urgent first."""
    rows = await conn.fetch(
        """SELECT kind, slug, revision, published_at, review FROM published
           WHERE kind <> 'service'
             AND (review IS NULL OR ($1::date IS NOT NULL AND next_review_due < $1::date))
           ORDER BY next_review_due NULLS FIRST, kind, slug""",
        due_before,
    )
    return [
        QueueRow(
            kind=r["kind"],
            slug=r["slug"],
            revision=r["revision"],
            published_at=r["published_at"],
            review=None if r["review"] is None else msgspec.json.decode(r["review"], type=SignOff),
        )
        for r in rows
    ]


def _sign_off(row: Any) -> SignOff:
    fields = dict(row.items())
    fields["reviewer"] = msgspec.json.decode(fields["reviewer"])
    return msgspec.convert(fields, SignOff)
