"""The public reads third-party sites build pages from: one document (through the cache), lists
with keyset cursors, field selection and embedded related documents, the sync feed with its
tokens, and search. Bad parameters are a 400 naming the parameter."""

from __future__ import annotations

import base64
import binascii
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


class Moved(msgspec.Struct, frozen=True, kw_only=True):
    """The slug asked for is an old one; the document answers to `slug` now."""

    slug: str


class Sync(msgspec.Struct, frozen=True, kw_only=True):
    full: bool
    published: list[Published]
    removed: list[ChangeRow]
    token: str
    # Changes are visible that this page leaves to a later one: it must not be cached, or it
    # would be served until the next content event.
    held_back: bool = False


# Where a sync token says a mirror stands: ("xid", n) all changes of transactions below n;
# ("seq", n) a token issued before sync went by transaction: the changes after seq n.
SyncFrom = tuple[Literal["xid", "seq"], int]


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
    codings: tuple[str, ...] = CODINGS,
    site_url_template: str | None = None,
) -> Encoded | Moved:
    """One published document, encoded; the plain case (no field selection, no embedding) is
    cached, in every content coding, until a `content.*` event names the document. Otherwise
    it is compressed only in `codings` (the ones the reader accepts). With the caller's
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
            payload = json_ld(row, locale, url_of)
        else:
            payload = pick(document(row, locale, url_of=url_of), selected)
            await embed(conn, payload, row, embeds, locale)
    media_type = JSON_LD if representation == "ld" else JSON
    entry = encode(row, payload, locale, media_type, CODINGS if cacheable else codings)
    if cacheable:
        cache.put(key, entry, tag, generation)
    return entry


def _site_pages(template: str) -> UrlOf:
    def url_of(kind: str, slug: str, locale: str) -> str:
        return site_url(template, collection=COLLECTION[kind], slug=slug, locale=locale)

    return url_of


async def cached_page(
    cache: DocumentCache,
    key: Key,
    tag: Tag,
    build: Callable[[], Awaitable[Encoded]],
    keep: Callable[[], bool] = lambda: True,
) -> Encoded:
    """A list, search or sync page from the cache, or built and cached until a `content.*`
    event touches `tag`. `key` names the request (its path, query and locale), so the fast path
    finds the page again without parsing it. `keep`, asked after the build, says whether the
    page may be cached at all."""
    entry = cache.get(key)
    if entry is not None:
        return entry
    generation = cache.generation(tag)
    entry = await build()
    if keep():
        cache.put(key, entry, tag, generation)
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
        items = [pick(document(row, locale, summary=not selected), selected) for row in page]
        for item, row in zip(items, page, strict=True):
            await embed(conn, item, row, embeds, locale)
    return Listing(items=items, next_cursor=cursor_after(page[-1], sort) if more else None)


async def sync(pool: Pool, token: str | None) -> Sync:
    """Without a token, every published document; with one, what changed since it. Gap-free:
    a page holds the changes of transactions that had all ended when it was read (below the
    snapshot's xmin), and its token is that xmin, so a change committed late by a transaction
    that started early comes on a later page instead of being skipped. A change may come twice
    (a full page already shows a document whose change is above its token): mirrors apply
    changes by document, so that is harmless."""
    since = decode_sync_token(token) if token is not None else None
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        # One snapshot: the rows, the horizon and what is held back agree.
        horizon = await store.sync_horizon(conn)
        held_back = await store.changes_held_back(conn, horizon)
        if since is None:
            return Sync(
                full=True,
                published=await store.all_published(conn),
                removed=[],
                token=encode_sync_token(horizon),
                held_back=held_back,
            )
        kind, position = since
        since_xid, since_seq = (position, 0) if kind == "xid" else (0, position)
        # A token from a later snapshot than this one (another replica's, read a moment ago):
        # nothing is due yet, and the position stays where it was.
        horizon = max(horizon, since_xid)
        changes = await store.changes_between(
            conn, since_xid=since_xid, since_seq=since_seq, horizon=horizon
        )
        latest = {c.document_id: c for c in changes}
        current = {r.document_id: r for r in await store.published_by_ids(conn, list(latest))}
        return Sync(
            full=False,
            published=[current[i] for i in latest if i in current],
            removed=[c for i, c in latest.items() if i not in current],
            token=encode_sync_token(horizon),
            held_back=held_back,
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


def encode_sync_token(horizon: int) -> str:
    return base64.urlsafe_b64encode(f"xid:{horizon}".encode()).decode().rstrip("=")


def decode_sync_token(token: str) -> SyncFrom:
    refused = BadRequest(
        [FieldProblem(field="token", message="is not a sync token this API issued")]
    )
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None
    prefix, _, digits = text.partition(":")
    position = parse_bigint(digits) if prefix in ("xid", "sync") else None
    if position is None:
        raise refused
    return ("xid" if prefix == "xid" else "seq"), position


async def embed(
    conn: Connection, item: dict[str, Any], row: Published, embeds: list[str], locale: str
) -> None:
    """The related documents `embeds` names, as summaries, in the order the document lists."""
    for name in embeds:
        related_kind = INCLUDES[row.kind][name]
        slugs = row.rendered["shared"].get(name, [])
        related = await store.published_by_slugs(conn, related_kind, slugs)
        item.setdefault("included", {})[name] = [
            document(r, locale, summary=True)
            for r in sorted(related, key=lambda r: slugs.index(r.slug))
        ]
