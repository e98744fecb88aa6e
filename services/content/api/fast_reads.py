"""Cached document reads answered before the web framework: a hit is a dictionary lookup whose
ready answer the consumer-access layer sends (services/runtime/access/consumer_access.py), so a
replica serves published pages at close to the speed of its server.

Taken here: `GET /v1/{collection}/{slug}` with no query or `?locale=` alone, and list, search
and sync pages asked for exactly as before (the same path, query and locale), each once its
entry is in the cache, in a content coding the reader accepts. Everything else (misses, other
parameters, bad locales, codings refused, errors) goes through Litestar, which fills the cache
and renders problems."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import parse_qsl, unquote

from litestar.types import HTTPScope

from services.content.cache import DocumentCache, Key
from services.content.compression import accepted
from services.content.domain.locales import LocaleError, negotiate
from services.content.representation import COLLECTION
from services.runtime.access.consumer_access import Ready, ReadyAnswers
from services.runtime.http.metrics import Metrics
from services.runtime.http.request_context import HeaderMap

ROUTE = "/v1/{collection}/{slug}"
KIND = {collection: kind for kind, collection in COLLECTION.items()}
# Pages whose answer depends on the reader's locale; sync's does not.
LOCALISED_PAGES = {*KIND, "search"}
PAGES = {*LOCALISED_PAGES, "sync"}
# A request id is echoed when the caller sent a plain one; minting one would cost more than
# the read.
MAX_REQUEST_ID = 128


@lru_cache(maxsize=4096)
def _cache_key(
    path: str, query: bytes, accept_language: bytes | None, accept: bytes | None
) -> Key | None:
    """The cache entry a GET of `path` reads, or None when the fast path must not answer it.
    Cached: the same pages are read over and over in the same way, and working this out is
    most of a cached read's own cost."""
    if not path.startswith("/v1/"):
        return None
    parts = path[4:].split("/")
    if len(parts) == 1 and parts[0] in PAGES:
        return _page_key(path, parts[0], query, accept_language)
    if len(parts) != 2 or parts[0] not in KIND:
        return None
    locale_param = None
    if query:
        name, _, value = query.decode("latin-1").partition("=")
        if name != "locale" or "&" in value:
            return None
        locale_param = unquote(value)
    try:
        language = None if accept_language is None else accept_language.decode()
        locale = negotiate(locale_param, language)
    except (LocaleError, UnicodeDecodeError):
        return None  # the framework answers with the problem
    representation = "ld" if accept is not None and b"application/ld+json" in accept else "json"
    return KIND[parts[0]], parts[1], locale, representation


def _page_key(path: str, page: str, query: bytes, accept_language: bytes | None) -> Key | None:
    """The key the door stored the page under (api/delivery.py, `page_key`)."""
    text = query.decode("latin-1")
    if page not in LOCALISED_PAGES:
        return "page", path, text, ""
    try:
        locale_param = next((v for k, v in parse_qsl(text) if k == "locale"), None)
        language = None if accept_language is None else accept_language.decode()
        locale = negotiate(locale_param, language)
    except (LocaleError, UnicodeDecodeError):
        return None
    return "page", path, text, locale


def _route(key: Key) -> str:
    """The route template the framework would have counted the request under."""
    if key[0] != "page":
        return ROUTE
    page = key[1].removeprefix("/v1/")
    return "/v1/{collection}" if page in KIND else key[1]


def cached_reads(cache: DocumentCache) -> Callable[[Metrics], ReadyAnswers]:
    def bind(metrics: Metrics) -> ReadyAnswers:
        # Counted, not timed: a hit takes microseconds, and observing a histogram would cost a
        # noticeable share of them. The latency histogram covers framework-served requests.
        tallies = {
            route: (metrics.tally("GET", route, 200), metrics.tally("GET", route, 304))
            for route in (ROUTE, "/v1/{collection}", "/v1/search", "/v1/sync")
        }

        def answer(scope: HTTPScope, headers: HeaderMap) -> Ready | None:
            if scope["method"] != "GET":
                return None
            key = _cache_key(
                scope["path"],
                scope["query_string"],
                headers.get(b"accept-language"),
                headers.get(b"accept"),
            )
            if key is None:
                return None
            entry = cache.get(key)
            if entry is None:
                return None
            variant = entry.choose(accepted(headers.get(b"accept-encoding")))
            if variant is None:
                return None  # the framework answers with the 406
            if_none_match = headers.get(b"if-none-match")
            fresh = if_none_match is not None and (
                if_none_match in entry.raw_etags or entry.fresh(if_none_match.decode("latin-1"))
            )
            route = _route(key)
            ok, not_modified = tallies[route]
            if fresh:
                not_modified[0] += 1
                status, out, body = 304, variant.raw_not_modified, b""
            else:
                ok[0] += 1
                status, out, body = 200, variant.raw_ok, variant.body
            request_id = headers.get(b"x-request-id")
            if (
                request_id is not None
                and request_id.isalnum()
                and len(request_id) <= MAX_REQUEST_ID
            ):
                out = [*out, (b"x-request-id", request_id)]
            # The entry's own header list: whoever sends it adds to a copy.
            return status, out, body, route

        return answer

    return bind
