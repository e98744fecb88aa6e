"""Cached document reads answered before the web framework: a hit is a dictionary lookup and two
ASGI messages, so a replica serves published pages at close to the speed of its server.

Only the plain case is taken here: `GET /v1/{collection}/{slug}` with no query or `?locale=`
alone, and an entry already in the cache. Everything else (misses, other parameters, bad
locales, errors) goes through Litestar, which fills the cache and renders problems."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import unquote

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from services.content.cache import DocumentCache
from services.content.domain import LocaleError, negotiate
from services.content.representation import COLLECTION, Encoded, etag_matches
from services.runtime.metrics import Metrics
from services.runtime.request_context import response_headers

ROUTE = "/v1/{collection}/{slug}"
KIND = {collection: kind for kind, collection in COLLECTION.items()}


@lru_cache(maxsize=4096)
def _locale(query: str | None, accept_language: str | None) -> str | None:
    try:
        return negotiate(query, accept_language)
    except LocaleError:
        return None


def cached_reads(cache: DocumentCache) -> Callable[[ASGIApp, Metrics], ASGIApp]:
    def wrap(app: ASGIApp, metrics: Metrics) -> ASGIApp:
        # Counted, not timed: a hit takes microseconds, and observing a histogram would cost a
        # noticeable share of them. The latency histogram covers framework-served requests.
        served = {
            status: metrics.http_requests.labels(method="GET", route=ROUTE, status=str(status))
            for status in (200, 304)
        }

        async def fast(scope: Scope, receive: Receive, send: Send) -> None:
            hit = _lookup(scope, cache) if scope["type"] == ScopeType.HTTP else None
            if hit is None:
                await app(scope, receive, send)
                return
            entry, if_none_match, request_id = hit
            not_modified = if_none_match is not None and etag_matches(if_none_match, entry.etag)
            headers = entry.raw_not_modified if not_modified else entry.raw_ok
            if request_id is not None:
                headers = [*headers, (b"x-request-id", request_id)]
            extra = response_headers(scope)
            if extra:
                headers = [*headers, *extra]
            start: HTTPResponseStartEvent = {
                "type": "http.response.start",
                "status": 304 if not_modified else 200,
                "headers": headers,
            }
            await send(start)
            body: HTTPResponseBodyEvent = {
                "type": "http.response.body",
                "body": b"" if not_modified else entry.body,
                "more_body": False,
            }
            await send(body)
            served[304 if not_modified else 200].inc()

        return fast

    return wrap


def _lookup(scope: Scope, cache: DocumentCache) -> tuple[Encoded, str | None, bytes | None] | None:
    target = _document_target(scope)
    if target is None:
        return None
    kind, slug, locale_param = target
    accept_language = accept = if_none_match = request_id = None
    for key, value in scope["headers"]:
        if key == b"accept-language":
            accept_language = value.decode("latin-1")
        elif key == b"accept":
            accept = value
        elif key == b"if-none-match":
            if_none_match = value.decode("latin-1")
        elif key == b"x-request-id" and value.isalnum() and len(value) <= 128:
            # Echoed when the caller sent one; minting one here would cost more than the read.
            request_id = value
    locale = _locale(locale_param, accept_language)
    if locale is None:
        return None
    representation = "ld" if accept is not None and b"application/ld+json" in accept else "json"
    entry = cache.get((kind, slug, locale, representation))
    if entry is None:
        return None
    return entry, if_none_match, request_id


def _document_target(scope: Scope) -> tuple[str, str, str | None] | None:
    """(kind, slug, ?locale) of a plain document GET, or None for anything else."""
    path: str = scope["path"]
    if scope.get("method") != "GET" or not path.startswith("/v1/"):
        return None
    parts = path[4:].split("/")
    if len(parts) != 2 or parts[0] not in KIND:
        return None
    query: bytes = scope.get("query_string", b"")
    if not query:
        return KIND[parts[0]], parts[1], None
    name, _, value = query.decode("latin-1").partition("=")
    if name != "locale" or "&" in value:
        return None
    return KIND[parts[0]], parts[1], unquote(value)
