"""The public, read-only delivery API third-party sites build pages from."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from services.content import delivery_store, store
from services.content.cache import DocumentCache
from services.content.documents import (
    Condition,
    ConditionText,
    ServiceOffering,
    ServiceText,
    Treatment,
    TreatmentText,
)
from services.content.domain import LocaleError, fallback_chain, negotiate
from services.content.publication import SEARCH_CONFIG
from services.content.representation import (
    COLLECTION,
    PUBLIC_CACHE,
    VARY,
    Encoded,
    document,
    encode,
    etag_matches,
    json_ld,
)
from services.runtime.core.errors import BadRequest, FieldProblem, NotFound
from services.runtime.http.cursors import NOT_OURS, decode_cursor, encode_cursor
from services.runtime.service.definition import RuntimeDependency

KIND = {collection: kind for kind, collection in COLLECTION.items()}
JSON_LD = "application/ld+json"
JSON = "application/json"
MAX_LIMIT = 100
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

CacheDependency = NamedDependency[DocumentCache]


class Page(msgspec.Struct, frozen=True, kw_only=True):
    items: list[dict[str, Any]]
    next_cursor: str | None


class SyncedDocument(msgspec.Struct, frozen=True, kw_only=True):
    """A published document in every locale it is written in, for mirroring."""

    id: uuid.UUID
    kind: str
    slug: str
    revision: int
    updated_at: datetime
    locales: list[str]
    shared: dict[str, Any]
    translations: dict[str, Any]


class Removed(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str
    slug: str


class SyncPage(msgspec.Struct, frozen=True, kw_only=True):
    """Apply `published` (replace by id) and `removed` (delete by id); keep `token`."""

    full: bool
    published: list[SyncedDocument]
    removed: list[Removed]
    token: str


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    slug: FromPath[str]
    url: str
    locale: str
    title: str
    snippet: str
    rank: float


class SearchPage(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    locale: str
    items: list[SearchResult]


def _locale(request: Request[Any, Any, Any], locale: str | None) -> str:
    try:
        return negotiate(locale, request.headers.get("accept-language"))
    except LocaleError as exc:
        raise BadRequest([FieldProblem(field="locale", message=str(exc))]) from None


def _kind(collection: FromPath[str]) -> str:
    kind = KIND.get(collection)
    if kind is None:
        raise NotFound(f"there is no collection {collection!r}; try {', '.join(KIND)}")
    return kind


def _names(raw: str | None, allowed: set[str], param: str) -> list[str]:
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


def _after(cursor: str, sort: str) -> tuple[Any, uuid.UUID]:
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


class DeliveryController(Controller):
    path = "/v1"
    tags = ("delivery",)

    @get(
        "/{collection:str}",
        summary="List published documents of a collection (conditions, treatments, services)",
        cache_control=None,
    )
    async def list_documents(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        collection: FromPath[str],
        locale: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 20,
        cursor: FromQuery[str | None] = None,
        sort: FromQuery[delivery_store.Sort] = "slug",
        specialty: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        updated_since: FromQuery[datetime | None] = None,
        fields: FromQuery[str | None] = None,
        include: FromQuery[str | None] = None,
    ) -> Response[Page]:
        kind = _kind(collection)
        served = _locale(request, locale)
        selected = _names(fields, FIELDS[kind], "fields")
        embeds = _names(include, set(INCLUDES[kind]), "include")
        after = _after(cursor, sort) if cursor else None
        async with runtime.pool.acquire() as conn:
            rows = await delivery_store.list_published(
                conn,
                kind=kind,
                sort=sort,
                after=after,
                limit=limit + 1,
                specialty=specialty,
                tag=tag,
                updated_since=updated_since,
            )
            page, more = rows[:limit], len(rows) > limit
            items = [_select(document(row, served, summary=not selected), selected) for row in page]
            for item, row in zip(items, page, strict=True):
                await _embed(conn, item, row, embeds, served)
        next_cursor = None
        if more:
            last = page[-1]
            key = last.slug if sort.lstrip("-") == "slug" else last.updated_at.isoformat()
            next_cursor = encode_cursor(sort, key, last.document_id)
        return Response(
            Page(items=items, next_cursor=next_cursor),
            headers={"Cache-Control": "public, max-age=60", "Vary": VARY},
        )

    @get(
        "/{collection:str}/{slug:str}",
        summary="One published document, localised; JSON-LD with Accept: application/ld+json",
        cache_control=None,
    )
    async def get_document(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        cache: CacheDependency,
        collection: FromPath[str],
        slug: FromPath[str],
        locale: FromQuery[str | None] = None,
        fields: FromQuery[str | None] = None,
        include: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        kind = _kind(collection)
        served = _locale(request, locale)
        selected = _names(fields, FIELDS[kind], "fields")
        embeds = _names(include, set(INCLUDES[kind]), "include")
        representation = "ld" if JSON_LD in request.headers.get("accept", "") else "json"
        key = (kind, slug, served, representation)
        entry = cache.get(key) if not (selected or embeds) else None
        if entry is None:
            generation = cache.generation(kind, slug)
            async with runtime.pool.acquire() as conn:
                row = await store.find_published(conn, kind, slug)
                if row is None:
                    return await _redirect_or_404(conn, request, kind, collection, slug)
                if representation == "ld":
                    payload = json_ld(row, served)
                else:
                    payload = _select(document(row, served), selected)
                    await _embed(conn, payload, row, embeds, served)
            entry = encode(row, payload, served, JSON_LD if representation == "ld" else JSON)
            if not (selected or embeds):
                cache.put(key, entry, generation)
        return _conditional(request, entry, JSON_LD if representation == "ld" else None)

    @get(
        "/sync",
        summary="Mirror the published content: a full snapshot, then only what changed",
        description=(
            "Without `token`: every published document and a token. With the token from the "
            "previous answer: the documents published or changed since, the ones removed, and a "
            "new token."
        ),
        cache_control=None,
    )
    async def sync(
        self, runtime: RuntimeDependency, token: FromQuery[str | None] = None
    ) -> Response[SyncPage]:
        since = decode_sync_token(token) if token is not None else None
        async with runtime.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            # One snapshot: the rows and the position they were read at agree.
            head = await delivery_store.last_change(conn)
            if since is None:
                rows = await delivery_store.all_published(conn)
                page = SyncPage(
                    full=True,
                    published=[_synced(r) for r in rows],
                    removed=[],
                    token=encode_sync_token(head),
                )
            else:
                changes = await delivery_store.changes_since(conn, since)
                latest = {c.document_id: c for c in changes}
                current = {
                    r.document_id: r
                    for r in await delivery_store.published_by_ids(conn, list(latest))
                }
                page = SyncPage(
                    full=False,
                    published=[_synced(current[i]) for i in latest if i in current],
                    removed=[
                        Removed(id=i, kind=c.kind, slug=c.slug)
                        for i, c in latest.items()
                        if i not in current
                    ],
                    token=encode_sync_token(max(head, since)),
                )
        return Response(page, headers={"Cache-Control": "private, no-cache"})

    @get("/search", summary="Full-text search over published content", cache_control=None)
    async def search(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        q: Annotated[str, QueryParameter(min_length=1, max_length=200)],
        locale: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 10,
    ) -> Response[SearchPage]:
        served = _locale(request, locale)
        config = SEARCH_CONFIG[served.split("-")[0]]
        async with runtime.pool.acquire() as conn:
            hits = await delivery_store.search(
                conn, query=q, locales=fallback_chain(served), config=config, limit=limit
            )
        items = [
            SearchResult(
                kind=h.kind,
                slug=h.slug,
                url=f"/v1/{COLLECTION[h.kind]}/{h.slug}",
                locale=h.locale,
                title=h.title,
                snippet=h.snippet,
                rank=round(h.rank, 6),
            )
            for h in hits
        ]
        return Response(
            SearchPage(query=q, locale=served, items=items),
            headers={"Cache-Control": "public, max-age=60", "Vary": VARY},
        )


def _synced(row: store.PublishedRow) -> SyncedDocument:
    return SyncedDocument(
        id=row.document_id,
        kind=row.kind,
        slug=row.slug,
        revision=row.revision,
        updated_at=row.updated_at,
        locales=row.locales,
        shared=row.rendered["shared"],
        translations=row.rendered["translations"],
    )


def encode_sync_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"sync:{seq}".encode()).decode().rstrip("=")


def decode_sync_token(token: str) -> int:
    refused = BadRequest(
        [FieldProblem(field="token", message="is not a sync token this API issued")]
    )
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None
    prefix, _, seq = text.partition(":")
    if prefix != "sync" or not seq.isdigit():
        raise refused
    return int(seq)


def _select(item: dict[str, Any], selected: list[str]) -> dict[str, Any]:
    if not selected:
        return item
    return {k: v for k, v in item.items() if k in selected or k in ("kind", "slug")}


async def _embed(
    conn: Any, item: dict[str, Any], row: store.PublishedRow, embeds: list[str], locale: str
) -> None:
    for name in embeds:
        related_kind = INCLUDES[row.kind][name]
        slugs = row.rendered["shared"].get(name, [])
        related = await delivery_store.published_by_slugs(conn, related_kind, slugs)
        item.setdefault("included", {})[name] = [
            document(r, locale, summary=True)
            for r in sorted(related, key=lambda r: slugs.index(r.slug))
        ]


async def _redirect_or_404(
    conn: Any,
    request: Request[Any, Any, Any],
    kind: str,
    collection: FromPath[str],
    slug: FromPath[str],
) -> Response[bytes]:
    target = await store.redirect_target(conn, kind, slug)
    if target is None:
        raise NotFound(f"no published {kind} has the slug {slug!r}")
    query = f"?{request.url.query}" if request.url.query else ""
    return Response(
        b"",
        status_code=301,
        headers={"Location": f"/v1/{collection}/{target}{query}", "Cache-Control": PUBLIC_CACHE},
    )


def _conditional(
    request: Request[Any, Any, Any], entry: Encoded, media_type: str | None
) -> Response[bytes]:
    if etag_matches(request.headers.get("if-none-match"), entry.etag):
        return Response(b"", status_code=304, headers=dict(entry.not_modified_headers))
    return Response(
        entry.body, media_type=media_type or "application/json", headers=dict(entry.headers)
    )
