"""The public reads third-party sites build pages from: one document (through the cache), lists
with keyset cursors, field selection and embedded related documents, the sync feed with its
tokens, and search. Bad parameters are a 400 naming the parameter."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

import msgspec

from services.content.cache import DocumentCache, Key, Tag, document_tag
from services.content.compression import CODINGS
from services.content.domain.documents import (
    Condition,
    ConditionText,
    ServiceOffering,
    ServiceText,
    Treatment,
    TreatmentText,
)
from services.content.domain.editorial import Published
from services.content.domain.locales import fallback_chain
from services.content.publication import SEARCH_CONFIG
from services.content.representation import (
    COLLECTION,
    Encoded,
    UrlOf,
    api_url,
    document,
    encode,
    expires_at,
    json_ld,
)
from services.content.store import delivery as store
from services.content.store.delivery import ChangeRow, SearchHit, Sort
from services.runtime.access.api_keys import site_url
from services.runtime.core.db import Connection, Pool
from services.runtime.core.errors import BadRequest, FieldProblem, NotFound
from services.runtime.core.integers import parse_bigint
from services.runtime.http.cursors import NOT_OURS, decode_cursor, encode_cursor

JSON_LD = "application/ld+json"
JSON = "application/json"
Representation = Literal["json", "ld"]
_BASE_FIELDS = {
    "kind", "slug", "url", "revision", "updated_at", "locale", "requested_locale",
    "available_locales", "field_locales", "disclaimer", "price_disclaimer",
}  # fmt: skip
_STRUCTS = {
    "condition": (Condition, ConditionText),
    "treatment": (Treatment, TreatmentText),
    "service": (ServiceOffering, ServiceText),
}
FIELDS = {
    kind: _BASE_FIELDS
    | {f.name for s in structs for f in msgspec.structs.fields(s)}  # type: ignore[arg-type]
    - {"translations"}
    for kind, structs in _STRUCTS.items()
}
INCLUDES = {
    "condition": {"related_treatments": "treatment", "related_services": "service"},
    "treatment": {"related_conditions": "condition", "related_services": "service"},
    "service": {},
}


class Listing(msgspec.Struct, frozen=True, kw_only=True):
    items: list[dict[str, Any]]
    next_cursor: str | None
    # When the page stops being true with no event (a sign-off on it turning overdue).
    expires: float | None = None


class Moved(msgspec.Struct, frozen=True, kw_only=True):
    """The slug asked for is an old one; the document answers to `slug` now."""

    slug: str


class Sync(msgspec.Struct, frozen=True, kw_only=True):
    full: bool
    published: list[Published]
    removed: list[ChangeRow]
    token: str
    # More pages of this pass follow: ask again with `token` at once.
    more: bool = False


# A page size that keeps a page a few megabytes (documents are tens of kilobytes of JSON).
SYNC_PAGE = 200
MAX_SYNC_PAGE = 1000


class SyncFrom(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Where a sync token says a mirror stands. `seen`: the snapshot ("xmin:xmax:xip,…") whose
    every change the mirror holds; `seq`: for a token issued before sync went by snapshot, the
    changes up to that seq; neither: in a full pass. A pass of several pages also names the
    snapshot it reads toward (`upto`, its first page's) and the last document id it sent."""

    seen: str | None = None
    seq: int | None = None
    upto: str | None = None
    after: uuid.UUID | None = None


# A pg_snapshot as PostgreSQL writes it; checked here, so a forged one is a 400, not a 500.
# ASCII digits only: `\d` would take "٣", which int() reads and PostgreSQL refuses.
_SNAPSHOT = re.compile(r"^([0-9]{1,19}):([0-9]{1,19}):((?:[0-9]{1,19})(?:,[0-9]{1,19}){0,999})?$")


async def read_document(
    pool: Pool,
    cache: DocumentCache,
    *,
    kind: str,
    slug: str,
    locale: str,
    representation: Representation,
    fields: str | None,
    include: str | None,
    now: datetime,
    codings: tuple[str, ...] = CODINGS,
    site_url_template: str | None = None,
) -> Encoded | Moved:
    """One published document, encoded; the plain case (no field selection, no embedding) is
    cached, in every content coding, until a `content.*` event names the document or its
    review turns overdue. Otherwise it is compressed only in the first of `codings` (the ones
    the reader accepts, best first), the one it is sent in. With the caller's
    `site_url_template` (its API key's), `url` and links name the site's pages, and the entry
    is cached under the template too."""
    selected = select(fields, FIELDS[kind], "fields")
    embeds = select(include, set(INCLUDES[kind]), "include")
    cacheable = not (selected or embeds)
    url_of = api_url if site_url_template is None else _site_pages(site_url_template)
    key = (
        kind,
        slug,
        locale,
        representation,
        *(() if site_url_template is None else (site_url_template,)),
    )
    entry = cache.get(key) if cacheable else None
    if entry is not None:
        return entry
    tag = document_tag(kind, slug)
    generation = cache.generation(tag)
    async with pool.acquire() as conn:
        row = await store.find_published(conn, kind, slug)
        if row is None:
            target = await store.redirect_target(conn, kind, slug)
            if target is None:
                raise NotFound(f"no published {kind} has the slug {slug!r}")
            return Moved(slug=target)
        if representation == "ld":
            payload = json_ld(row, locale, now, await treatment_kinds(conn, row), url_of)
        else:
            payload = pick(document(row, locale, now, url_of=url_of), selected)
            await embed(conn, payload, row, embeds, locale, now)
    media_type = JSON_LD if representation == "ld" else JSON
    # Not kept: compressed only in the coding it is sent in.
    entry = encode(row, payload, locale, media_type, CODINGS if cacheable else codings[:1])
    if cacheable:
        cache.put(key, entry, tag, generation, expires_at([row], now))
    return entry


async def treatment_kinds(conn: Connection, row: Published) -> dict[str, str]:
    """slug -> treatment kind of a condition's related treatments, so JSON-LD types each."""
    slugs = row.rendered["shared"].get("related_treatments", [])
    if not slugs:
        return {}
    related = await store.published_by_slugs(conn, "treatment", slugs)
    return {r.slug: r.rendered["shared"]["treatment_kind"] for r in related}


def _site_pages(template: str) -> UrlOf:
    def url_of(kind: str, slug: str, locale: str) -> str:
        return site_url(template, collection=COLLECTION[kind], slug=slug, locale=locale)

    return url_of


async def cached_page(
    cache: DocumentCache,
    key: Key,
    tag: Tag,
    build: Callable[[], Awaitable[tuple[Encoded, float | None]]],
) -> Encoded:
    """A list, search or sync page from the cache, or built and cached until a `content.*`
    event touches `tag` (or until the moment `build` says it stops being true). `key` names
    the request (its path, query and locale), so the fast path finds the page again without
    parsing it."""
    entry = cache.get(key)
    if entry is not None:
        return entry
    generation = cache.generation(tag)
    entry, expires = await build()
    cache.put(key, entry, tag, generation, expires)
    return entry


async def list_documents(
    pool: Pool,
    *,
    kind: str,
    locale: str,
    limit: int,
    cursor: str | None,
    sort: Sort,
    specialty: str | None,
    tag: str | None,
    updated_since: datetime | None,
    fields: str | None,
    include: str | None,
    now: datetime,
) -> Listing:
    selected = select(fields, FIELDS[kind], "fields")
    embeds = select(include, set(INCLUDES[kind]), "include")
    after = after_cursor(cursor, sort) if cursor else None
    async with pool.acquire() as conn:
        rows = await store.list_published(
            conn,
            kind=kind,
            sort=sort,
            after=after,
            limit=limit + 1,
            specialty=specialty,
            tag=tag,
            updated_since=updated_since,
            summary=not (selected or embeds),
        )
        page, more = rows[:limit], len(rows) > limit
        items = [pick(document(row, locale, now, summary=not selected), selected) for row in page]
        for item, row in zip(items, page, strict=True):
            await embed(conn, item, row, embeds, locale, now)
    return Listing(
        items=items,
        next_cursor=cursor_after(page[-1], sort) if more else None,
        expires=expires_at(page, now),
    )


async def sync(pool: Pool, token: str | None, *, limit: int = SYNC_PAGE) -> Sync:
    """Without a token, every published document; with one, what changed since it; either in
    pages of at most `limit` documents (`more`: the next page's token follows at once). Exact:
    a pass reads toward the snapshot its first page was read in, and its last page's token is
    that snapshot, so the next pass holds every change it did not see. A change committed late
    by a transaction that took an early place in the log is not skipped (the earlier snapshot
    did not see it), and no change comes twice (the snapshot that saw it is the token).

    The pages of a full pass after the first read the documents as they are then, in id order:
    a document published or changed meanwhile may come twice (once in the pass, once in the
    next delta), one removed meanwhile is named in the next delta; a mirror that applies
    pages in order ends equal to the catalogue."""
    position = decode_sync_token(token) if token is not None else SyncFrom()
    full_pass = position.seen is None and position.seq is None
    after = position.after or store.FIRST
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        # One snapshot for the rows and, on a pass's first page, the token.
        upto = position.upto or await store.sync_snapshot(conn)
        if full_pass:
            published = await store.published_after(conn, after=after, limit=limit + 1)
            more = len(published) > limit
            published = published[:limit]
            removed: list[ChangeRow] = []
            last = published[-1].document_id if published else after
        else:
            changes = await store.changes_unseen(
                conn,
                seen=position.seen,
                since_seq=position.seq or 0,
                upto=position.upto,
                after=after,
                limit=limit + 1,
            )
            more = len(changes) > limit
            changes = changes[:limit]
            ids = [c.document_id for c in changes]
            current = {r.document_id: r for r in await store.published_by_ids(conn, ids)}
            published = [current[i] for i in ids if i in current]
            removed = [c for c in changes if c.document_id not in current]
            last = ids[-1] if ids else after
    return Sync(
        full=full_pass and position.after is None,
        published=published,
        removed=removed,
        token=(
            encode_position(msgspec.structs.replace(position, upto=upto, after=last))
            if more
            else encode_sync_token(upto)
        ),
        more=more,
    )


async def search(pool: Pool, *, query: str, locale: str, limit: int) -> list[SearchHit]:
    config = SEARCH_CONFIG[locale.split("-", maxsplit=1)[0]]
    async with pool.acquire() as conn:
        return await store.search(
            conn, query=query, locales=fallback_chain(locale), config=config, limit=limit
        )


def select(raw: str | None, allowed: set[str], param: str) -> list[str]:
    """The names a comma-separated parameter (`fields`, `include`) lists; an unknown one is a
    400 naming the parameter and what it allows."""
    if not raw:
        return []
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise BadRequest(
            [
                FieldProblem(
                    field=param,
                    message=f"unknown {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
                )
            ]
        )
    return names


def pick(item: dict[str, Any], selected: list[str]) -> dict[str, Any]:
    """Only the selected fields, and always what names the document (kind, slug)."""
    if not selected:
        return item
    return {k: v for k, v in item.items() if k in selected or k in ("kind", "slug")}


def cursor_after(last: Published, sort: Sort) -> str:
    """The cursor of the page that follows `last`: the sort it was issued for and the key."""
    key = last.slug if sort.lstrip("-") == "slug" else last.updated_at.isoformat()
    return encode_cursor(sort, key, last.document_id)


def after_cursor(cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
    """The sort key a list cursor holds; a cursor of another sort order is refused."""
    issued_for, value, document_id = decode_cursor(cursor, tuple[str, str, uuid.UUID])
    if issued_for != sort:
        raise BadRequest(
            [FieldProblem(field="cursor", message=f"was issued for sort={issued_for}")]
        )
    if sort.lstrip("-") == "updated_at":
        try:
            return datetime.fromisoformat(value), document_id
        except ValueError:
            raise BadRequest([FieldProblem(field="cursor", message=NOT_OURS)]) from None
    return value, document_id


def encode_sync_token(snapshot: str) -> str:
    """The token of a mirror that holds every change `snapshot` saw."""
    return encode_position(SyncFrom(seen=snapshot))


def encode_position(position: SyncFrom) -> str:
    if position.upto is None:  # caught up: the short form every earlier token had
        text = f"snap:{position.seen}"
    else:
        text = "page:" + msgspec.json.encode(position).decode()
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_sync_token(token: str) -> SyncFrom:
    refused = BadRequest(
        [FieldProblem(field="token", message="is not a sync token this API issued")]
    )
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None
    prefix, _, rest = text.partition(":")
    if prefix == "snap" and _valid_snapshot(rest):
        return SyncFrom(seen=rest)
    if prefix == "page":
        try:
            position = msgspec.json.decode(rest, type=SyncFrom)
        except msgspec.DecodeError:  # malformed JSON, and well-formed JSON of the wrong shape
            raise refused from None
        snapshots = [s for s in (position.seen, position.upto) if s is not None]
        if (
            position.upto is None
            or position.after is None
            or (position.seen is not None and position.seq is not None)
            or (position.seq is not None and not 0 <= position.seq < 2**63)
            or not all(_valid_snapshot(s) for s in snapshots)
        ):
            raise refused
        return position
    position_number = parse_bigint(rest) if prefix in ("xid", "sync") else None
    if position_number is None or (prefix == "xid" and position_number < 1):
        raise refused
    if prefix == "xid":
        # Issued while tokens were horizons: every transaction below it had ended.
        return SyncFrom(seen=f"{position_number}:{position_number}:")
    return SyncFrom(seq=position_number)


def _valid_snapshot(text: str) -> bool:
    """As PostgreSQL accepts one: 0 < xmin <= xmax, each in-progress id from xmin up to (not
    including) xmax, ascending."""
    found = _SNAPSHOT.match(text)
    if found is None:
        return False
    xmin, xmax = int(found[1]), int(found[2])
    xip = [int(x) for x in found[3].split(",")] if found[3] else []
    if not 0 < xmin <= xmax < 2**63:
        return False
    return all(xmin <= x < xmax for x in xip) and xip == sorted(set(xip))


async def embed(
    conn: Connection,
    item: dict[str, Any],
    row: Published,
    embeds: list[str],
    locale: str,
    now: datetime,
) -> None:
    """The related documents `embeds` names, as summaries, in the order the document lists."""
    for name in embeds:
        related_kind = INCLUDES[row.kind][name]
        slugs = row.rendered["shared"].get(name, [])
        related = await store.published_by_slugs(conn, related_kind, slugs)
        item.setdefault("included", {})[name] = [
            document(r, locale, now, summary=True)
            for r in sorted(related, key=lambda r: slugs.index(r.slug))
        ]
