"""SQL of the editorial side: documents, their revisions, schedules, and what publishing writes
(the published form, redirects, search entries, the change log). One function per statement,
connection first, Structs out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from services.content.domain.editorial import (
    DocumentRecord,
    LoggedChange,
    Published,
    Revision,
)
from services.content.domain.reviews import SignOff
from services.runtime.core.db import Connection


class RevisionRow(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    author: str
    created_at: datetime
    note: str | None
    body: dict[str, Any]


_DOCUMENT = """id, kind, slug, version, draft, created_at, updated_at, published_revision,
               published_at, scheduled_revision, scheduled_for"""


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _document(row: Any) -> DocumentRecord:
    fields = dict(row.items())
    fields["draft"] = msgspec.json.decode(fields["draft"])
    return msgspec.convert(fields, DocumentRecord)


async def save_draft(conn: Connection, record: DocumentRecord) -> None:
    """A new document, or the new draft (slug, body, version) of an existing one."""
    await conn.execute(
        """INSERT INTO documents (id, kind, slug, version, draft, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (id) DO UPDATE SET slug = EXCLUDED.slug, draft = EXCLUDED.draft,
               version = EXCLUDED.version, updated_at = EXCLUDED.updated_at""",
        record.id,
        record.kind,
        record.slug,
        record.version,
        _json(record.draft),
        record.created_at,
        record.updated_at,
    )


async def update_standing(conn: Connection, record: DocumentRecord) -> None:
    """Where a document stands: the revision published and when, the one scheduled and when."""
    await conn.execute(
        """UPDATE documents SET published_revision = $2, published_at = $3,
               scheduled_revision = $4, scheduled_for = $5 WHERE id = $1""",
        record.id,
        record.published_revision,
        record.published_at,
        record.scheduled_revision,
        record.scheduled_for,
    )


async def find_document(conn: Connection, kind: str, slug: str) -> DocumentRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_DOCUMENT} FROM documents WHERE kind = $1 AND slug = $2", kind, slug
    )
    return None if row is None else _document(row)


async def lock_document(conn: Connection, kind: str, slug: str) -> DocumentRecord | None:
    row = await conn.fetchrow(
        f"SELECT {_DOCUMENT} FROM documents WHERE kind = $1 AND slug = $2 FOR UPDATE", kind, slug
    )
    return None if row is None else _document(row)


async def slug_taken(conn: Connection, kind: str, slug: str, other_than: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM documents WHERE kind = $1 AND slug = $2 AND id <> $3)
               OR EXISTS (SELECT 1 FROM slug_redirects
                          WHERE kind = $1 AND old_slug = $2 AND document_id <> $3)""",
            kind,
            slug,
            other_than,
        )
    )


async def list_documents(conn: Connection, kind: str) -> list[DocumentRecord]:
    rows = await conn.fetch(
        f"SELECT {_DOCUMENT} FROM documents WHERE kind = $1 ORDER BY slug", kind
    )
    return [_document(r) for r in rows]


async def insert_revision(conn: Connection, revision: Revision) -> None:
    await conn.execute(
        """INSERT INTO revisions (document_id, number, body, author, created_at, note)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        revision.document_id,
        revision.number,
        _json(revision.body),
        revision.author,
        revision.created_at,
        revision.note,
    )


async def list_revisions(conn: Connection, document_id: uuid.UUID) -> list[RevisionRow]:
    rows = await conn.fetch(
        """SELECT number, author, created_at, note, body FROM revisions
           WHERE document_id = $1 ORDER BY number""",
        document_id,
    )
    return [_revision(r) for r in rows]


async def get_revision(conn: Connection, document_id: uuid.UUID, number: int) -> RevisionRow | None:
    row = await conn.fetchrow(
        """SELECT number, author, created_at, note, body FROM revisions
           WHERE document_id = $1 AND number = $2""",
        document_id,
        number,
    )
    return None if row is None else _revision(row)


def _revision(row: Any) -> RevisionRow:
    fields = dict(row.items())
    fields["body"] = msgspec.json.decode(fields["body"])
    return msgspec.convert(fields, RevisionRow)


async def claim_due(conn: Connection, now: datetime, limit: int) -> list[DocumentRecord]:
    """Scheduled publications that are due; SKIP LOCKED so replicas never publish one twice."""
    rows = await conn.fetch(
        f"""SELECT {_DOCUMENT} FROM documents
            WHERE scheduled_for IS NOT NULL AND scheduled_for <= $1
            ORDER BY scheduled_for LIMIT $2 FOR UPDATE SKIP LOCKED""",
        now,
        limit,
    )
    return [_document(r) for r in rows]


async def published_for(conn: Connection, document_id: uuid.UUID) -> Published | None:
    row = await conn.fetchrow(
        """SELECT document_id, kind, slug, revision, rendered, locales, updated_at, review
           FROM published WHERE document_id = $1""",
        document_id,
    )
    return None if row is None else published_row(row)


def published_row(row: Any) -> Published:
    fields = dict(row.items())
    fields["rendered"] = msgspec.json.decode(fields["rendered"])
    if fields.get("review") is not None:
        fields["review"] = msgspec.json.decode(fields["review"])
    return msgspec.convert(fields, Published)


async def upsert_published(
    conn: Connection,
    *,
    document_id: uuid.UUID,
    kind: str,
    slug: str,
    revision: int,
    rendered: Any,
    locales: list[str],
    specialty: str | None,
    tags: list[str],
    review: SignOff | None,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO published (document_id, kind, slug, revision, rendered, locales, specialty,
                                  tags, published_at, updated_at, review, next_review_due)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)
           ON CONFLICT (document_id) DO UPDATE SET
               slug = EXCLUDED.slug, revision = EXCLUDED.revision, rendered = EXCLUDED.rendered,
               locales = EXCLUDED.locales, specialty = EXCLUDED.specialty, tags = EXCLUDED.tags,
               updated_at = EXCLUDED.updated_at, review = EXCLUDED.review,
               next_review_due = EXCLUDED.next_review_due""",
        document_id,
        kind,
        slug,
        revision,
        _json(rendered),
        locales,
        specialty,
        tags,
        now,
        None if review is None else _json(review),
        None if review is None else review.next_review_due,
    )


async def delete_published(conn: Connection, document_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM published WHERE document_id = $1", document_id)


async def document_slugs(conn: Connection) -> dict[str, frozenset[str]]:
    """Slugs of every document, draft or published, by kind."""
    rows = await conn.fetch("SELECT kind, array_agg(slug) AS slugs FROM documents GROUP BY kind")
    return {r["kind"]: frozenset(r["slugs"]) for r in rows}


async def insert_redirect(
    conn: Connection, kind: str, old_slug: str, document_id: uuid.UUID
) -> None:
    await conn.execute(
        """INSERT INTO slug_redirects (kind, old_slug, document_id) VALUES ($1, $2, $3)
           ON CONFLICT (kind, old_slug) DO UPDATE SET document_id = EXCLUDED.document_id""",
        kind,
        old_slug,
        document_id,
    )


async def old_slugs(conn: Connection, document_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT old_slug FROM slug_redirects WHERE document_id = $1 ORDER BY old_slug", document_id
    )
    return [r["old_slug"] for r in rows]


# The rows of `search_top` for the entries `e` of search_entries (as content migrations 0007 and
# 0009 wrote them).
TOP_TERMS = """t.term, ts_rank(e.ranking, t.term::tsquery), e.slug, e.locale, e.document_id,
           ts_rank_cd(e.document, t.term::tsquery, 32)
    FROM search_entries e,
         LATERAL (SELECT quote_literal(w)::tsquery::text AS term
                  FROM unnest(tsvector_to_array(e.ranking)) AS w) t"""


async def replace_search_entries(
    conn: Connection,
    document_id: uuid.UUID,
    entries: list[tuple[str, str, str, str, str, str, str]],
) -> None:
    """entries: (locale, kind, slug, title, summary, body, text-search configuration)."""
    await conn.execute("DELETE FROM search_entries WHERE document_id = $1", document_id)
    await conn.executemany(
        """INSERT INTO search_entries
               (document_id, locale, kind, slug, title, summary, body, config, document, ranking)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8::regconfig,
                  v.ranking || setweight(to_tsvector($8::regconfig, $7), 'C'), v.ranking
           FROM (SELECT setweight(to_tsvector($8::regconfig, $5), 'A')
                        || setweight(to_tsvector($8::regconfig, $6), 'B') AS ranking) v""",
        [(document_id, *entry) for entry in entries],
    )
    # Each title and summary word's score, for one-word searches (content migration 0007); the
    # old entries' rows went with them (ON DELETE CASCADE).
    await conn.execute(
        f"""INSERT INTO search_top (term, quick, slug, locale, document_id, body)
            SELECT {TOP_TERMS} WHERE e.document_id = $1""",
        document_id,
    )
    # The typo fallback's words (content migration 0006): those no title had yet. No unique
    # key, so publishes that share a new word do not wait for each other.
    await conn.execute(
        """INSERT INTO title_words
           SELECT DISTINCT w
           FROM unnest($1::text[]) AS t,
                regexp_split_to_table(lower(unaccented(t)), '[^[:alpha:]]+') AS w
           WHERE length(w) >= 3
             AND NOT EXISTS (SELECT FROM title_words v WHERE v.word = w)""",
        [entry[3] for entry in entries],
    )


async def insert_change(conn: Connection, change: LoggedChange) -> int:
    return int(
        await conn.fetchval(
            """INSERT INTO changes (document_id, kind, slug, action, revision, at)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq""",
            change.document_id,
            change.kind,
            change.slug,
            change.action,
            change.revision,
            change.at,
        )
    )
