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
from services.runtime.request_context import header_map, response_headers

ROUTE = "/v1/{collection}/{slug}"
KIND = {collection: kind for kind, collection in COLLECTION.items()}
# A request id is echoed when the caller sent a plain one; minting one would cost more than
# the read.
MAX_REQUEST_ID = 128


@lru_cache(maxsize=4096)
def _locale(query: str | None, accept_language: bytes | None) -> str | None:
    try:
        return negotiate(query, None if accept_language is None else accept_language.decode())
    except (LocaleError, UnicodeDecodeError):
        return None


@lru_cache(maxsize=4096)
def _document_target(path: str, query: bytes) -> tuple[str, str, str | None] | None:
    """(kind, slug, ?locale) of a plain document path, or None for anything else. Cached: the
    same few pages are read over and over, and parsing is most of a hit's own work."""
    if not path.startswith("/v1/"):
        return None
    parts = path[4:].split("/")
    if len(parts) != 2 or parts[0] not in KIND:
        return None
    if not query:
        return KIND[parts[0]], parts[1], None
    name, _, value = query.decode("latin-1").partition("=")
    if name != "locale" or "&" in value:
        return None
    return KIND[parts[0]], parts[1], unquote(value)


def cached_reads(cache: DocumentCache) -> Callable[[ASGIApp, Metrics], ASGIApp]:
    def wrap(app: ASGIApp, metrics: Metrics) -> ASGIApp:
        # Counted, not timed: a hit takes microseconds, and observing a histogram would cost a
        # noticeable share of them. The latency histogram covers framework-served requests.
        ok = metrics.tally("GET", ROUTE, 200)
        not_modified = metrics.tally("GET", ROUTE, 304)

        async def fast(scope: Scope, receive: Receive, send: Send) -> None:
            entry = _lookup(scope, cache)
            if entry is None:
                await app(scope, receive, send)
                return
            headers = header_map(scope)
            if_none_match = headers.get(b"if-none-match")
            fresh = if_none_match is not None and (
                if_none_match == entry.raw_etag
                or etag_matches(if_none_match.decode("latin-1"), entry.etag)
            )
            out = entry.raw_not_modified if fresh else entry.raw_ok
            extra = response_headers(scope)
            if extra:
                out = out + extra
            request_id = headers.get(b"x-request-id")
            if (
                request_id is not None
                and request_id.isalnum()
                and len(request_id) <= MAX_REQUEST_ID
            ):
                out = [*out, (b"x-request-id", request_id)]
            start: HTTPResponseStartEvent = {
                "type": "http.response.start",
                "status": 304 if fresh else 200,
                "headers": out,
            }
            await send(start)
            body: HTTPResponseBodyEvent = {
                "type": "http.response.body",
                "body": b"" if fresh else entry.body,
                "more_body": False,
            }
            await send(body)
            (not_modified if fresh else ok)[0] += 1

        return fast

    return wrap


def _lookup(scope: Scope, cache: DocumentCache) -> Encoded | None:
    """The cached entry a plain document GET asks for, or None for anything else."""
    if scope["type"] != ScopeType.HTTP or scope["method"] != "GET":
        return None
    target = _document_target(scope["path"], scope["query_string"])
    if target is None:
        return None
    kind, slug, locale_param = target
    headers = header_map(scope)
    locale = _locale(locale_param, headers.get(b"accept-language"))
    if locale is None:
        return None
    accept = headers.get(b"accept")
    representation = "ld" if accept is not None and b"application/ld+json" in accept else "json"
    return cache.get((kind, slug, locale, representation))
