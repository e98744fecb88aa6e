"""SQL of the public read side: one document, lists with keyset cursors, full-text search, the
change log that mirrors sync from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import msgspec

from services.content.domain.editorial import Published
from services.content.store.editorial import published_row
from services.runtime.core.db import Connection

Sort = Literal["slug", "-slug", "updated_at", "-updated_at"]
_COLUMNS = "document_id, kind, slug, revision, rendered, locales, updated_at"


class ChangeRow(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    document_id: uuid.UUID
    kind: str
    slug: str
    action: str
    revision: int
    at: datetime


class SearchHit(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    slug: str
    locale: str
    title: str
    snippet: str
    rank: float


async def find_published(conn: Connection, kind: str, slug: str) -> Published | None:
    row = await conn.fetchrow(
        """SELECT document_id, kind, slug, revision, rendered, locales, updated_at
           FROM published WHERE kind = $1 AND slug = $2""",
        kind,
        slug,
    )
    return None if row is None else published_row(row)


async def redirect_target(conn: Connection, kind: str, slug: str) -> str | None:
    value = await conn.fetchval(
        """SELECT p.slug FROM slug_redirects r JOIN published p ON p.document_id = r.document_id
           WHERE r.kind = $1 AND r.old_slug = $2""",
        kind,
        slug,
    )
    return None if value is None else str(value)


async def list_published(
    conn: Connection,
    *,
    kind: str,
    sort: Sort,
    after: tuple[Any, uuid.UUID] | None,
    limit: int,
    specialty: str | None,
    tag: str | None,
    updated_since: datetime | None,
) -> list[Published]:
    """Keyset pagination on (sort column, id): a page boundary never moves when documents are
    published or unpublished elsewhere in the list, unlike an OFFSET."""
    column = sort.lstrip("-")
    descending = sort.startswith("-")
    comparison = "<" if descending else ">"
    direction = "DESC" if descending else "ASC"
    conditions = ["kind = $1"]
    params: list[Any] = [kind]
    for clause, value in (
        ("specialty = ${}", specialty),
        ("${} = ANY(tags)", tag),
        ("updated_at >= ${}", updated_since),
    ):
        if value is not None:
            params.append(value)
            conditions.append(clause.format(len(params)))
    if after is not None:
        params += list(after)
        conditions.append(
            f"({column}, document_id) {comparison} (${len(params) - 1}, ${len(params)})"
        )
    params.append(limit)
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM published WHERE {" AND ".join(conditions)}
            ORDER BY {column} {direction}, document_id {direction} LIMIT ${len(params)}""",
        *params,
    )
    return [published_row(r) for r in rows]


async def published_by_slugs(conn: Connection, kind: str, slugs: list[str]) -> list[Published]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM published WHERE kind = $1 AND slug = ANY($2::text[])", kind, slugs
    )
    return [published_row(r) for r in rows]


async def all_published(conn: Connection) -> list[Published]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM published ORDER BY kind, slug")
    return [published_row(r) for r in rows]


async def published_by_ids(conn: Connection, ids: list[uuid.UUID]) -> list[Published]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM published WHERE document_id = ANY($1::uuid[])", ids
    )
    return [published_row(r) for r in rows]


async def search(
    conn: Connection, *, query: str, locales: tuple[str, ...], config: str, limit: int
) -> list[SearchHit]:
    """Full text in the reader's language (stemmed, ranked, highlighted); per document the
    entry in the most preferred locale. Falls back to trigram similarity on titles when the
    words match nothing, so a typo still finds the page."""
    rows = await conn.fetch(
        """WITH q AS (SELECT websearch_to_tsquery($2::regconfig, $1) AS query),
           hits AS (
               SELECT DISTINCT ON (e.document_id) e.kind, e.slug, e.locale, e.title,
                      ts_headline($2::regconfig, e.summary || ' ' || e.body, q.query,
                                  'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12')
                          AS snippet,
                      ts_rank_cd(e.document, q.query) AS rank
               FROM search_entries e, q
               WHERE e.locale = ANY($3::text[]) AND e.document @@ q.query
               ORDER BY e.document_id, array_position($3::text[], e.locale))
           SELECT * FROM hits ORDER BY rank DESC, slug LIMIT $4""",
        query,
        config,
        list(locales),
        limit,
    )
    if not rows:
        rows = await conn.fetch(
            """SELECT DISTINCT ON (document_id) kind, slug, locale, title,
                      left(summary, 200) AS snippet,
                      public.similarity(title, $1)::float8 AS rank
               FROM search_entries
               WHERE locale = ANY($2::text[]) AND public.similarity(title, $1) > 0.2
               ORDER BY document_id, array_position($2::text[], locale)""",
            query,
            list(locales),
        )
        rows = sorted(rows, key=lambda r: -r["rank"])[:limit]
    return [
        SearchHit(
            kind=r["kind"],
            slug=r["slug"],
            locale=r["locale"],
            title=r["title"],
            snippet=r["snippet"],
            rank=float(r["rank"]),
        )
        for r in rows
    ]


async def last_change(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM changes"))


async def changes_since(conn: Connection, seq: int) -> list[ChangeRow]:
    rows = await conn.fetch(
        "SELECT seq, kind, slug, action, revision, at, document_id FROM changes "
        "WHERE seq > $1 ORDER BY seq",
        seq,
    )
    return [
        ChangeRow(
            seq=r["seq"], kind=r["kind"], slug=r["slug"], action=r["action"],
            revision=r["revision"], at=r["at"], document_id=r["document_id"],
        )
        for r in rows
    ]  # fmt: skip
