"""The public, read-only delivery API third-party sites build pages from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from services.content.api.parameters import collection_kind, reader_locale
from services.content.cache import DocumentCache
from services.content.domain.editorial import Published
from services.content.representation import COLLECTION, PUBLIC_CACHE, VARY, Encoded, etag_matches
from services.content.store.delivery import Sort
from services.content.usecases import delivery
from services.content.usecases.delivery import JSON_LD, Moved
from services.runtime.service.definition import RuntimeDependency

MAX_LIMIT = 100

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
        sort: FromQuery[Sort] = "slug",
        specialty: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        updated_since: FromQuery[datetime | None] = None,
        fields: FromQuery[str | None] = None,
        include: FromQuery[str | None] = None,
    ) -> Response[Page]:
        listing = await delivery.list_documents(
            runtime.pool,
            kind=collection_kind(collection),
            locale=reader_locale(request, locale),
            limit=limit,
            cursor=cursor,
            sort=sort,
            specialty=specialty,
            tag=tag,
            updated_since=updated_since,
            fields=fields,
            include=include,
        )
        return Response(
            Page(items=listing.items, next_cursor=listing.next_cursor),
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
        ld = JSON_LD in request.headers.get("accept", "")
        found = await delivery.read_document(
            runtime.pool,
            cache,
            kind=collection_kind(collection),
            slug=slug,
            locale=reader_locale(request, locale),
            representation="ld" if ld else "json",
            fields=fields,
            include=include,
        )
        if isinstance(found, Moved):
            return _moved(request, collection, found)
        return _conditional(request, found, JSON_LD if ld else None)

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
        synced = await delivery.sync(runtime.pool, token)
        page = SyncPage(
            full=synced.full,
            published=[_synced(r) for r in synced.published],
            removed=[Removed(id=c.document_id, kind=c.kind, slug=c.slug) for c in synced.removed],
            token=synced.token,
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
        served = reader_locale(request, locale)
        hits = await delivery.search(runtime.pool, query=q, locale=served, limit=limit)
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


def _synced(row: Published) -> SyncedDocument:
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


def _moved(request: Request[Any, Any, Any], collection: str, moved: Moved) -> Response[bytes]:
    query = f"?{request.url.query}" if request.url.query else ""
    return Response(
        b"",
        status_code=301,
        headers={
            "Location": f"/v1/{collection}/{moved.slug}{query}",
            "Cache-Control": PUBLIC_CACHE,
        },
    )


def _conditional(
    request: Request[Any, Any, Any], entry: Encoded, media_type: str | None
) -> Response[bytes]:
    if etag_matches(request.headers.get("if-none-match"), entry.etag):
        return Response(b"", status_code=304, headers=dict(entry.not_modified_headers))
    return Response(
        entry.body, media_type=media_type or "application/json", headers=dict(entry.headers)
    )
