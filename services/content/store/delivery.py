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
# A list item's texts only (title and summary per locale, kept in `summaries`: content
# migration 0010): a whole rendered document is tens of kilobytes of JSON to read, send and
# decode, for two fields of it.
_SUMMARY_COLUMNS = """document_id, kind, slug, revision, locales, updated_at, review,
    jsonb_build_object('shared', '{}'::jsonb, 'translations', summaries) AS rendered"""


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
    `CANDIDATES` titles or summaries reads them from `search_top` (content migration 0007) in
    that order instead of scoring every hit. The title weighs most, then the summary, and a
    match in either outranks the body alone; when fewer documents than `CANDIDATES` match (a
    rare word) the order is exact. The snippet (`ts_headline`, which re-parses its text) is
    made for the returned page only, from the summary when the title or summary match, else
    from the body.

    When the words match nothing, each word of the query that no title holds is replaced by
    the closest word that titles hold (`corrected`: trigram similarity through the trigram
    index on the title words) and the corrected query is searched, so a typo still finds the
    page; ranked as any search.

    All in one function (`search_page`, content migrations 0008 and 0009), whose statement the
    database plans once per connection: planned for every search, it cost more than it took to
    run. Candidates from `search_top` are those scoring every hit would pick: every entry
    holding the word in its title or summary has a row there, and one holding it only in its
    body scores ts_rank's floor (1e-20), below all of them. The word is compared as a scalar
    subquery, a value fixed for the statement, so the index hands the rows back in score order
    and the scan stops at `CANDIDATES`."""
    rows = await conn.fetch(
        "SELECT * FROM search_page($1, $2::regconfig, $3::text[], $4, $5, $6)",
        query,
        config,
        list(locales),
        limit,
        CANDIDATES,
        use_top,
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
