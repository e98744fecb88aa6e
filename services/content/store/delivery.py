"""SQL of the public read side: one document, lists with keyset cursors, full-text search, the
change log that mirrors sync from."""

from __future__ import annotations

import functools
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


# Below every document id: where a full pass starts.
FIRST = uuid.UUID(int=0)


async def published_after(conn: Connection, *, after: uuid.UUID, limit: int) -> list[Published]:
    """A page of a full sync pass: published documents in id order, after `after` (the
    primary key's index: each page costs its own rows, whatever the catalogue's size).
    `rendered["translations"]` is raw JSON (msgspec.Raw)."""
    rows = await conn.fetch(
        f"""SELECT {_SYNC_COLUMNS} FROM published WHERE document_id > $1
            ORDER BY document_id LIMIT $2""",
        after,
        limit,
    )
    return [_synced_row(r) for r in rows]


# The documents of a sync page, whose texts go out as they are stored: `translations` is the
# JSON text PostgreSQL sends (msgspec.Raw), embedded in the page as it is. Decoding tens of
# kilobytes a document only to encode them again was half of a page's Python (py-spy).
_SYNC_COLUMNS = """document_id, kind, slug, revision, locales, updated_at, review,
    jsonb_build_object('shared', rendered -> 'shared') AS rendered,
    rendered -> 'translations' AS translations"""


def _synced_row(row: Any) -> Published:
    fields = dict(row.items())
    translations = fields.pop("translations")
    published = published_row(fields)
    published.rendered["translations"] = msgspec.Raw(translations)
    return published


async def published_by_ids(conn: Connection, ids: list[uuid.UUID]) -> list[Published]:
    """For a sync page: `rendered["translations"]` is raw JSON (msgspec.Raw)."""
    rows = await conn.fetch(
        f"SELECT {_SYNC_COLUMNS} FROM published WHERE document_id = ANY($1::uuid[])", ids
    )
    return [_synced_row(r) for r in rows]


# Candidates ranked exactly, of those the cheap score puts first (see `search`).
CANDIDATES = 200
# The hits of a search, scored on the small vector. (SELECT query FROM q): computed once, and an
# index condition. With more than one locale, per document the entry in the most preferred.
_MATCHED = """SELECT e.document_id, e.locale, e.slug,
           ts_rank(e.ranking, (SELECT query FROM q)) AS quick
    FROM search_entries e
    WHERE e.locale = ANY($3::text[]) AND e.document @@ (SELECT query FROM q)"""
_MATCHED_PREFERRED = f"""SELECT DISTINCT ON (document_id) * FROM ({_MATCHED}) m
    ORDER BY document_id, array_position($3::text[], locale)"""
# A one-word search's candidates from `search_top` (content migration 0007): the entries that
# hold the word in their title or summary, best score first, in index order, each with the
# score `_MATCHED` would give it; with more than one locale, not an entry whose document has a
# matching entry in a more preferred locale (the one `_MATCHED_PREFERRED` keeps). Every entry
# holding the word in its title or summary is there, and one that holds it only in its body
# scores ts_rank's floor (1e-20), below all of them: so when `CANDIDATES` come from here, they
# are the candidates the full query would pick, without scoring every hit.
# (The word as a scalar subquery, not a join with q: a value fixed for the statement, so the
# index hands back the entries in score order and the scan stops at the limit.)
_TOP = """SELECT t.document_id, t.locale, t.slug, t.quick
    FROM search_top t
    WHERE (SELECT numnode(query) FROM q) = 1 AND t.term = (SELECT query::text FROM q)
      AND t.locale = ANY($3::text[])
      AND (cardinality($3::text[]) = 1 OR NOT EXISTS (
          SELECT FROM search_entries p
          WHERE p.document_id = t.document_id
            -- The locales before t's, in the index condition: none for the first.
            AND p.locale = ANY(($3::text[])[:array_position($3::text[], t.locale) - 1])
            AND p.document @@ (SELECT query FROM q)))
    ORDER BY t.quick DESC, t.slug LIMIT $5"""


# No candidates from `search_top`: every hit scored (for tests comparing the two ways).
_TOP_NONE = "SELECT document_id, locale, slug, quick FROM search_top WHERE false"


@functools.cache
def _search_statement(use_top: bool, preferred: bool) -> str:
    """The search's one statement, typo or not: the page for the words as asked (`found`), and
    only when that is empty (a gating one-time filter: the second arm is never executed
    otherwise) the page for the corrected words. Each arm is the same query over its own `q`.
    Built once per variant: it is kilobytes of text, and asyncpg keys its prepared statements
    by it."""
    page = f"""
           top AS MATERIALIZED ({_TOP if use_top else _TOP_NONE}),
           matched AS ({_MATCHED_PREFERRED if preferred else _MATCHED}),
           candidates AS (
               SELECT * FROM top WHERE (SELECT count(*) FROM top) >= $5
               UNION ALL
               (SELECT * FROM matched WHERE (SELECT count(*) FROM top) < $5
                ORDER BY quick DESC, slug LIMIT $5)),
           page AS (
               SELECT c.document_id, c.locale, c.slug,
                      c.quick + 0.1 * ts_rank_cd(e.document, (SELECT query FROM q), 32) AS rank
               FROM candidates c JOIN search_entries e USING (document_id, locale)
               ORDER BY rank DESC, c.slug LIMIT $4)
           SELECT e.kind, e.slug, e.locale, e.title, p.rank::float8 AS rank,
                  ts_headline($2::regconfig,
                              CASE WHEN e.ranking @@ q.query THEN e.summary ELSE e.body END,
                              q.query,
                              'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12')
                      AS snippet
           FROM page p JOIN search_entries e USING (document_id, locale), q
           ORDER BY p.rank DESC, e.slug"""
    return f"""WITH asked AS MATERIALIZED (SELECT websearch_to_tsquery($2::regconfig, $1) AS query),
           found AS MATERIALIZED (WITH q AS MATERIALIZED (SELECT query FROM asked), {page}),
           fixed AS MATERIALIZED (
               SELECT websearch_to_tsquery($2::regconfig, nullif(corrected($1), '')) AS query),
           refound AS (WITH q AS MATERIALIZED (SELECT query FROM fixed), {page})
           SELECT * FROM found
           UNION ALL
           SELECT * FROM refound WHERE NOT EXISTS (SELECT FROM found)
           ORDER BY rank DESC, slug"""


async def search(
    conn: Connection,
    *,
    query: str,
    locales: tuple[str, ...],
    config: str,
    limit: int,
    use_top: bool = True,
) -> list[SearchHit]:
    """Full text in the reader's language (stemmed, accents folded), through the GIN index on
    each entry's stored tsvector; per document the entry in the most preferred locale.

    Ranking is in two steps, so a common word does not read every hit's whole vector: every
    hit is scored on its small title (A) and summary (B) vector kept in the row; the best
    `CANDIDATES` of them are then ordered by that score plus at most 0.1 for the body (cover
    density over the whole document). A one-word search whose word is in at least
    `CANDIDATES` titles or summaries reads them from `search_top` in that order instead of
    scoring every hit (`_TOP`). The title weighs most, then the summary, and a match in
    either outranks the body alone; when fewer documents than `CANDIDATES` match (a rare word)
    the order is exact. The snippet (`ts_headline`, which re-parses its text) is made for the
    returned page only, from the summary when the title or summary match, else from the body.

    When the words match nothing, each word of the query that no title holds is replaced by
    the closest word that titles hold (`corrected`: trigram similarity through the trigram
    index on the title words) and the corrected query is searched, so a typo still finds the
    page; ranked as any search."""
    rows = await conn.fetch(
        _search_statement(use_top, preferred=len(locales) > 1),
        query,
        config,
        list(locales),
        limit,
        CANDIDATES,
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
    conn: Connection,
    *,
    seen: str | None,
    since_seq: int = 0,
    upto: str | None = None,
    after: uuid.UUID = FIRST,
    limit: int,
) -> list[ChangeRow]:
    """The documents changed in what this transaction sees and snapshot `seen` did not, the
    latest change of each, in id order after `after`: every change committed since, whatever
    its place in the log, so none is skipped and none comes twice. Without a snapshot (a token
    issued before sync went by snapshot), the changes after seq `since_seq`. `upto`, the
    snapshot a paged delta reads toward: only what it saw (later changes are the next
    delta's)."""
    params: list[Any] = []
    if seen is None:
        params.append(since_seq)
        conditions = ["seq > $1"]
    else:
        # Below the snapshot's xmin every committed transaction was seen: the index narrows
        # the scan to the transactions it may not have seen.
        params.append(seen)
        conditions = [
            "xid >= pg_snapshot_xmin($1::text::pg_snapshot)",
            "NOT pg_visible_in_snapshot(xid, $1::text::pg_snapshot)",
        ]
    if upto is not None:
        params.append(upto)
        conditions.append(f"pg_visible_in_snapshot(xid, ${len(params)}::text::pg_snapshot)")
    params.extend((after, limit))
    rows = await conn.fetch(
        f"""SELECT DISTINCT ON (document_id) seq, kind, slug, action, revision, at, document_id
            FROM changes WHERE {" AND ".join(conditions)} AND document_id > ${len(params) - 1}
            ORDER BY document_id, seq DESC LIMIT ${len(params)}""",
        *params,
    )
    return [
        ChangeRow(
            seq=r["seq"], kind=r["kind"], slug=r["slug"], action=r["action"],
            revision=r["revision"], at=r["at"], document_id=r["document_id"],
        )
        for r in rows
    ]  # fmt: skip
