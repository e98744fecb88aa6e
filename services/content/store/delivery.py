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
_COLUMNS = "document_id, kind, slug, revision, rendered, locales, updated_at, review"
# A list item's texts only (title and summary per locale): a whole rendered document is tens of
# kilobytes of JSON to send and decode, for two fields of it.
_SUMMARY_COLUMNS = """document_id, kind, slug, revision, locales, updated_at, review,
    jsonb_build_object(
        'shared', '{}'::jsonb,
        'translations', (SELECT jsonb_object_agg(t.key, jsonb_build_object(
                             'title', t.value -> 'title', 'summary', t.value -> 'summary'))
                         FROM jsonb_each(rendered -> 'translations') AS t)) AS rendered"""


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
        f"SELECT {_COLUMNS} FROM published WHERE kind = $1 AND slug = $2",
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
    summary: bool = False,
) -> list[Published]:
    """Keyset pagination on (sort column, id): a page boundary never moves when documents are
    published or unpublished elsewhere in the list, unlike an OFFSET. With `summary`, each
    row's `rendered` holds only the titles and summaries of its locales."""
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
        f"""SELECT {_SUMMARY_COLUMNS if summary else _COLUMNS} FROM published
            WHERE {" AND ".join(conditions)}
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
    """Full text in the reader's language (stemmed, weighted: title, summary, body), through the
    GIN index on the stored tsvector; per document the entry in the most preferred locale. The
    snippet (`ts_headline`, which re-parses the text) is made for the returned page only. When
    the words match nothing, titles close to the query by trigrams (`<%`, word similarity,
    through the trigram index) are the hits, so a typo still finds the page."""
    rows = await conn.fetch(
        """WITH q AS (SELECT websearch_to_tsquery($2::regconfig, $1) AS query),
           matched AS (
               SELECT DISTINCT ON (e.document_id) e.document_id, e.locale,
                      ts_rank_cd(e.document, q.query) AS rank
               FROM search_entries e, q
               WHERE e.locale = ANY($3::text[]) AND e.document @@ q.query
               ORDER BY e.document_id, array_position($3::text[], e.locale)),
           page AS (
               SELECT m.*, e.slug FROM matched m
               JOIN search_entries e USING (document_id, locale)
               ORDER BY m.rank DESC, e.slug LIMIT $4)
           SELECT e.kind, e.slug, e.locale, e.title, p.rank,
                  ts_headline($2::regconfig, e.summary || ' ' || e.body, q.query,
                              'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12')
                      AS snippet
           FROM page p JOIN search_entries e USING (document_id, locale), q
           ORDER BY p.rank DESC, e.slug""",
        query,
        config,
        list(locales),
        limit,
    )
    if not rows:
        async with conn.transaction():
            # Word similarity: the query against the closest run of words in a title, so a
            # short query is not diluted by a long title. Local to this transaction.
            await conn.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', '0.5', true)"
            )
            rows = await conn.fetch(
                """WITH matched AS (
                       SELECT DISTINCT ON (document_id) kind, slug, locale, title,
                              left(summary, 200) AS snippet,
                              public.word_similarity($1, title)::float8 AS rank
                       FROM search_entries
                       WHERE locale = ANY($2::text[]) AND $1 OPERATOR(public.<%) title
                       ORDER BY document_id, array_position($2::text[], locale))
                   SELECT * FROM matched ORDER BY rank DESC, slug LIMIT $3""",
                query,
                list(locales),
                limit,
            )
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


async def sync_snapshot(conn: Connection) -> str:
    """The transaction's snapshot (`xmin:xmax:xip,…`): which transactions' changes it sees. A
    sync page's token is the snapshot it was read in."""
    return str(await conn.fetchval("SELECT pg_current_snapshot()::text"))


async def changes_unseen(
    conn: Connection, *, seen: str | None, since_seq: int = 0
) -> list[ChangeRow]:
    """The changes this transaction sees that snapshot `seen` did not: every one committed
    since, whatever its place in the log, so none is skipped and none comes twice. Without a
    snapshot (a token issued before sync went by snapshot), the changes after seq `since_seq`."""
    if seen is None:
        rows = await conn.fetch(
            "SELECT seq, kind, slug, action, revision, at, document_id FROM changes "
            "WHERE seq > $1 ORDER BY seq",
            since_seq,
        )
    else:
        # Below the snapshot's xmin every committed transaction was seen: the index narrows
        # the scan to the transactions it may not have seen.
        rows = await conn.fetch(
            "SELECT seq, kind, slug, action, revision, at, document_id FROM changes "
            "WHERE xid >= pg_snapshot_xmin($1::text::pg_snapshot) "
            "AND NOT pg_visible_in_snapshot(xid, $1::text::pg_snapshot) ORDER BY seq",
            seen,
        )
    return [
        ChangeRow(
            seq=r["seq"], kind=r["kind"], slug=r["slug"], action=r["action"],
            revision=r["revision"], at=r["at"], document_id=r["document_id"],
        )
        for r in rows
    ]  # fmt: skip
