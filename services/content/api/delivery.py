"""The public, read-only delivery API third-party sites build pages from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, QueryParameter

from services.content.api.parameters import ClockDependency, collection_kind, reader_locale
from services.content.api.shapes import (
    DOCUMENT_RESPONSES,
    NOT_MODIFIED,
    RenderedText,
    ServedDocument,
    SharedFacts,
    WithJsonLd,
)
from services.content.cache import SEARCH, SYNC, DocumentCache, Key, collection_tag
from services.content.compression import CODINGS, ON_THE_FLY, PREFERENCE, accepted
from services.content.domain.editorial import Published
from services.content.representation import (
    COLLECTION,
    PAGE_CACHE,
    PAGE_VARY,
    PUBLIC_CACHE,
    SYNC_CACHE,
    SYNC_VARY,
    Encoded,
    expires_at,
    represent,
    shared_facts,
)
from services.content.store.delivery import Sort
from services.content.usecases import delivery
from services.content.usecases.delivery import JSON, JSON_LD, Moved
from services.runtime.access.api_keys import ApiKey
from services.runtime.service.running import RuntimeDependency

MAX_LIMIT = 100

CacheDependency = NamedDependency[DocumentCache]


class Page(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ServedDocument]
    next_cursor: str | None


class SyncedDocument(msgspec.Struct, frozen=True, kw_only=True):
    """A published document in every locale it is written in, for mirroring."""

    id: uuid.UUID
    kind: str
    slug: str
    revision: int
    updated_at: datetime
    locales: list[str]
    shared: SharedFacts
    translations: dict[str, RenderedText]


class Removed(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    kind: str
    slug: str


class SyncPage(msgspec.Struct, frozen=True, kw_only=True):
    """When `full`, drop the mirror's copy first; then apply `published` (replace by id) and
    `removed` (delete by id), and keep `token`. When `more`, ask again with it at once: the
    pass goes on."""

    full: bool
    published: list[SyncedDocument]
    removed: list[Removed]
    token: str
    more: bool


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    slug: str
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
        responses={
            200: ResponseSpec(
                Page, generate_examples=False, description="A page of the collection"
            ),
            304: NOT_MODIFIED,
        },
    )
    async def list_documents(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        cache: CacheDependency,
        clock: ClockDependency,
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
    ) -> Response[bytes]:
        kind = collection_kind(collection)
        served = reader_locale(request, locale)

        async def build() -> tuple[Encoded, float | None]:
            listing = await delivery.list_documents(
                runtime.pool,
                kind=kind,
                locale=served,
                limit=limit,
                cursor=cursor,
                sort=sort,
                specialty=specialty,
                tag=tag,
                updated_since=updated_since,
                fields=fields,
                include=include,
                now=clock.now(),
            )
            page = Page(items=listing.items, next_cursor=listing.next_cursor)
            return _page(request, cache, page, PAGE_CACHE, PAGE_VARY, served), listing.expires

        if include:
            # Embedded documents of other collections: no single collection's event outdates
            # the page, so it is built every time.
            return _send(request, (await build())[0])
        key = page_key(request, served)
        return _send(request, await delivery.cached_page(cache, key, collection_tag(kind), build))

    @get(
        "/{collection:str}/{slug:str}",
        summary="One published document, localised; JSON-LD with Accept: application/ld+json",
        cache_control=None,
        responses=DOCUMENT_RESPONSES,
        operation_class=WithJsonLd,
    )
    async def get_document(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        cache: CacheDependency,
        clock: ClockDependency,
        collection: FromPath[str],
        slug: FromPath[str],
        locale: FromQuery[str | None] = None,
        fields: FromQuery[str | None] = None,
        include: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        ld = JSON_LD in request.headers.get("accept", "")
        codings = _codings(request)
        found = await delivery.read_document(
            runtime.pool,
            cache,
            kind=collection_kind(collection),
            slug=slug,
            locale=reader_locale(request, locale),
            representation="ld" if ld else "json",
            fields=fields,
            include=include,
            now=clock.now(),
            codings=codings,
            site_url_template=_site_url_template(request),
        )
        if isinstance(found, Moved):
            return _moved(request, collection, found)
        return _send(request, found, JSON_LD if ld else JSON, codings)

    @get(
        "/sync",
        summary="Mirror the published content: a full snapshot, then only what changed",
        description=(
            "Without `token`: every published document and a token. With the token from the "
            "previous answer: the documents published or changed since, the ones removed, and a "
            "new token. Either comes in pages of at most `limit` documents: while `more` is "
            "true, ask again with the page's token at once; the last page's token is the one to "
            "keep for the next sync. Only the first page of a full pass has `full`: the mirror "
            "starts over there."
        ),
        cache_control=None,
        responses={
            200: ResponseSpec(SyncPage, generate_examples=False, description="A sync page"),
            304: NOT_MODIFIED,
        },
    )
    async def sync_content(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        cache: CacheDependency,
        clock: ClockDependency,
        token: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=delivery.MAX_SYNC_PAGE)] = delivery.SYNC_PAGE,
    ) -> Response[bytes]:
        async def build() -> tuple[Encoded, float | None]:
            synced = await delivery.sync(runtime.pool, token, limit=limit)
            now = clock.now()
            page = SyncPage(
                full=synced.full,
                published=[_synced(r, now) for r in synced.published],
                removed=[
                    Removed(id=c.document_id, kind=c.kind, slug=c.slug) for c in synced.removed
                ],
                token=synced.token,
                more=synced.more,
            )
            encoded = _page(request, cache, page, SYNC_CACHE, SYNC_VARY)
            return encoded, expires_at(synced.published, now)

        # The same for every reader: no locale in the key.
        key = page_key(request, "")
        entry = await delivery.cached_page(cache, key, SYNC, build)
        return _send(request, entry)

    @get(
        "/search",
        summary="Full-text search over published content",
        cache_control=None,
        responses={
            200: ResponseSpec(SearchPage, generate_examples=False, description="A page of hits"),
            304: NOT_MODIFIED,
        },
    )
    async def search_content(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        cache: CacheDependency,
        q: Annotated[str, QueryParameter(min_length=1, max_length=200)],
        locale: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 10,
    ) -> Response[bytes]:
        served = reader_locale(request, locale)

        async def build() -> tuple[Encoded, float | None]:
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
            page = SearchPage(query=q, locale=served, items=items)
            # Search hits carry no review status: nothing on the page falls due.
            return _page(request, cache, page, PAGE_CACHE, PAGE_VARY, served), None

        key = page_key(request, served)
        return _send(request, await delivery.cached_page(cache, key, SEARCH, build))


def _synced(row: Published, now: datetime) -> SyncedDocument:
    return SyncedDocument(
        id=row.document_id,
        kind=row.kind,
        slug=row.slug,
        revision=row.revision,
        updated_at=row.updated_at,
        locales=row.locales,
        shared=shared_facts(row, now),
        # The stored JSON as it is (msgspec.Raw, store/delivery.py), of the declared shape.
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


def _site_url_template(request: Request[Any, Any, Any]) -> str | None:
    """The site page template of the caller's API key, if it has one."""
    consumer: ApiKey | None = request.scope.get("state", {}).get("consumer")
    return None if consumer is None else consumer.site_url_template


def page_key(request: Request[Any, Any, Any], locale: str) -> Key:
    """The cache key of a list, search or sync page: what the fast path reads from a request
    (api/fast_reads.py), so it finds the page without parsing its parameters."""
    return ("page", request.scope["path"], request.scope["query_string"].decode("latin-1"), locale)


def _page(
    request: Request[Any, Any, Any],
    cache: DocumentCache,
    page: msgspec.Struct,
    cache_control: str,
    vary: str,
    locale: str | None = None,
) -> Encoded:
    """The page encoded in every coding if the cache keeps it; otherwise only in the one it
    is sent in now, the cheapest to make of those the reader likes best."""
    body = msgspec.json.encode(page)
    return represent(
        body,
        media_type=JSON,
        cache_control=cache_control,
        vary=vary,
        content_language=locale,
        codings=CODINGS if cache.admits(len(body)) else _codings(request, ON_THE_FLY)[:1],
    )


def _codings(
    request: Request[Any, Any, Any], preference: tuple[str, ...] = PREFERENCE
) -> tuple[str, ...]:
    raw = request.headers.get("accept-encoding")
    codings = accepted(None if raw is None else raw.encode("latin-1"), preference)
    if not codings:
        raise HTTPException(
            status_code=406,
            detail="no content coding acceptable to Accept-Encoding is available; "
            "accept identity, br, zstd or gzip",
        )
    return codings


def _send(
    request: Request[Any, Any, Any],
    entry: Encoded,
    media_type: str = JSON,
    codings: tuple[str, ...] | None = None,
) -> Response[bytes]:
    """The entry in the best coding the reader accepts; a 304 when If-None-Match names the
    entry in any coding, with the tag of the coding it would have been sent in."""
    variant = entry.choose(codings or _codings(request))
    if variant is None:  # only identity was made (a small body) and the reader refuses it
        raise HTTPException(status_code=406, detail="this answer is only available as identity")
    if entry.fresh(request.headers.get("if-none-match")):
        return Response(b"", status_code=304, headers=dict(variant.not_modified_headers))
    return Response(variant.body, media_type=media_type, headers=dict(variant.headers))
