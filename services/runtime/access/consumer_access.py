"""Who is calling, from where, and how often: API keys of third-party consumers, CORS answered
per key, and rate limits by identity, with RateLimit headers on every answer and 429 +
Retry-After past the limit. Each caller has a bucket of its own: a consumer per API key, a staff
member per staff token, a patient per access token (one inquiry), an anonymous caller per client
address (behind trusted proxies, the address they forwarded: client_address.py). So a burst of
anonymous traffic from one address never costs a coordinator or a patient a request. Bearer
tokens are checked by the routes' guards, after this layer; a token they refuse (401) is charged
to its address's budget for refused tokens, so guessing tokens stays bounded too.

It runs before everything else of a service, so no path escapes the limits. It also sends the
answers a service has ready before the framework (content's cached reads, `ready`): a ready
answer is a plain function's result, sent here with this layer's own headers, which spares such
a read a layer of its own. Routes that need a key say so with `consumer_only()`; the key found
here is in the request state as `consumer`, and with a publishable key the visitor's client
address as `visitor`.

A key's kind says where it may come from. A publishable key sits in a site's pages, where anyone
can read it, so it is refused unless a browser sends it from one of its origins (`Origin`), and
it has a bucket per visitor (client address) besides its own: a scraped key replayed with curl
gets a 403, and one visitor cannot spend the site's quota. A secret key is refused when an
`Origin` comes with it: it was put in a page, where it is no secret any more. Every keyed answer
carries `Vary: Origin`, since the Origin decides it."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from services.runtime.access.api_keys import ApiKey, KeyDirectory
from services.runtime.access.client_address import ClientAddresses
from services.runtime.access.rate_limit import RateLimiter
from services.runtime.access.staff import TOKEN_PREFIX as STAFF_TOKEN_PREFIX
from services.runtime.core.db import Pool
from services.runtime.core.outages import TRANSIENT
from services.runtime.http.access_log import AccessLog
from services.runtime.http.problems import send_problem, send_unavailable
from services.runtime.http.request_context import (
    HTTP,
    REQUEST_ID_RAW,
    HeaderMap,
    RawHeaders,
    pass_on,
    safe_header_id,
)
from services.runtime.http.route_policy import personal_data

API_KEY_HEADER = "x-api-key"
API_KEY_HEADER_RAW = API_KEY_HEADER.encode()
SECURITY_SCHEME = "apiKey"
# Operational endpoints are polled by orchestrators and scrapers, never by consumers.
UNLIMITED_PREFIXES = ("/health/", "/schema")
ALLOWED_METHODS = b"GET, POST, PUT, PATCH, DELETE"
ALLOWED_HEADERS = (
    b"altcha, authorization, content-type, idempotency-key, if-match, if-none-match, "
    b"x-api-key, x-request-id, x-correlation-id"
)
EXPOSED_HEADERS = (
    b"etag, content-language, location, retry-after, x-request-id, x-correlation-id, "
    b"ratelimit, ratelimit-policy"
)
PREFLIGHT_MAX_AGE = b"600"
# Anonymous answers are public content any page may show, with or without an Origin: a shared
# cache may hand the answer to any browser, so it must carry the field for all of them.
# Routes for one caller (staff, patients) drop it again (route_policy.py).
_ANY_ORIGIN: RawHeaders = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", EXPOSED_HEADERS),
]
_VARY_ORIGIN = (b"vary", b"Origin")
_BEARER = b"bearer "
_STAFF_TOKEN = STAFF_TOKEN_PREFIX.encode()
_STAFF_REFUSED = frozenset({401})
_PATIENT_REFUSED = frozenset({401, 404})
# A ready answer: status, header fields, body, and the route template it answers (for its
# access log line).
Ready = tuple[int, RawHeaders, bytes, str]
# Gives the ready answer to a request, or None to let the app answer it.
ReadyAnswers = Callable[[HTTPScope, HeaderMap], Ready | None]


def consumer_access(  # noqa: PLR0915 - its middleware is one function on purpose (below)
    app: ASGIApp,
    *,
    pool: Callable[[], Pool],
    directory: KeyDirectory,
    limiter: RateLimiter,
    anonymous_limit: int,
    visitor_limit: int = 0,
    token_limits: TokenLimits | None = None,
    addresses: ClientAddresses | None = None,
    on_refused: Callable[[str], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
    ready: ReadyAnswers | None = None,
    access_log: AccessLog | None = None,
) -> ASGIApp:
    """`pool` gives the running service's pool (it exists only once the lifespan started);
    `anonymous_limit` is requests a minute per client address without a key or token, 0 for
    none; `visitor_limit` those of one client address with one publishable key, 0 for none;
    `token_limits` those of bearer tokens (by default none);
    `addresses` finds a request's client address (by default its socket peer);
    `clock` is the directory's and the limiter's time (monotonic seconds); `ready` gives the
    answers sent without the app, once the caller is admitted; `access_log` writes the lines
    of the answers sent here (every refusal, a sample of the ready answers)."""

    client_addresses = addresses or ClientAddresses((), "x-forwarded-for")
    bearers = token_limits or TokenLimits()
    lines = access_log or AccessLog(enabled=False)
    # The share of ready answers logged; 0 (lines off, or no sample) costs a ready answer one
    # float test, and any other share one random() comparison.
    sample = lines.sample_cached

    # One function on purpose, branches and all: a call less is measurable on a cached read.
    async def middleware(  # noqa: PLR0912
        scope: Scope, receive: Receive, send: Send
    ) -> None:
        if scope["type"] != HTTP or scope["path"].startswith(UNLIMITED_PREFIXES):
            await app(scope, receive, send)
            return
        # Local, not kept in the scope unless the app is called: a key added to the scope makes
        # it grow, which costs a cached read more than building the dict does.
        headers = dict(scope["headers"])
        origin_raw = headers.get(b"origin")
        origin = None if origin_raw is None else origin_raw.decode("latin-1")
        now = clock()
        key_raw = headers.get(API_KEY_HEADER_RAW)
        try:
            if (
                origin is not None
                and scope["method"] == "OPTIONS"
                and b"access-control-request-method" in headers
            ):
                known = await directory.origin_known(pool(), origin)
                await _preflight(
                    scope, lines.sender(scope["method"], send, now, headers), origin, known
                )
                return
            if key_raw is None:
                key = None
            elif directory.fresh(now):
                key = directory.known(key_raw)
            else:
                key = await directory.find(pool(), key_raw)
        except TRANSIENT:
            # The key directory could not be read (PostgreSQL away). Outside the app, so its
            # exception handlers never see this.
            await send_unavailable(scope, lines.sender(scope["method"], send, now, headers))
            return

        visitor = None
        if key_raw is not None:
            refusal = _refusal(key, origin)
            if refusal is not None or key is None:
                reason, status, detail = refusal or _UNKNOWN_KEY
                on_refused(reason)
                await send_problem(
                    scope,
                    lines.sender(scope["method"], send, now, headers),
                    status,
                    detail,
                    [_VARY_ORIGIN],
                )
                return
            # A publishable key's caller is a visitor of the site's pages: its address counts.
            visitor = client_addresses.of(scope) if key.publishable else None
            limits, retry_after = _take_key(limiter, key, visitor, visitor_limit, now)
            extra = [_VARY_ORIGIN, *limits] if origin_raw is None else _cors(origin_raw) + limits
        elif (auth := headers.get(b"authorization")) is not None and (
            token := _bearer_token(auth)
        ) is not None:
            # Staff or a patient: a bucket per token, never the anonymous one of its address.
            extra, retry_after, send = bearers.take(
                limiter, client_addresses.of(scope), token, now, send
            )
        else:
            extra, retry_after = (
                limiter.take("@" + client_addresses.of(scope), anonymous_limit, now)
                if anonymous_limit
                else ([], 0)
            )
            extra += _ANY_ORIGIN

        if retry_after:
            on_refused("rate_limited")
            extra.append((b"retry-after", str(retry_after).encode()))
            await send_problem(
                scope,
                lines.sender(scope["method"], send, now, headers),
                429,
                "too many requests; retry after the time given",
                extra,
            )
            return
        # A key with pages of its own (a site URL template) gets documents naming them: the
        # app builds those, the ready answers name the API's.
        answer = (
            None
            if ready is None or (key is not None and key.site_url_template)
            else ready(scope, headers)
        )
        if answer is not None:
            status, out, body, route = answer
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": out + extra if extra else out,
                }
            )
            await send({"type": "http.response.body", "body": body, "more_body": False})
            if sample and lines.sampled():
                lines.write(
                    method=scope["method"],
                    route=route,
                    status=status,
                    duration=clock() - now,
                    size=len(body),
                    request_id=safe_header_id(headers.get(REQUEST_ID_RAW)),
                    headers=headers,
                )
            return
        pass_on(scope, headers, extra, consumer=key, visitor=visitor)
        await app(scope, receive, send)

    return middleware


@dataclass(frozen=True)
class TokenLimits:
    """Requests a minute per staff token, per patient access token, and per client address
    whose bearer tokens the guards refused (401); 0: no limit."""

    staff: int = 0
    patient: int = 0
    refused: int = 0

    def take(
        self, limiter: RateLimiter, address: str, token: bytes, now: float, send: Send
    ) -> tuple[RawHeaders, int, Send]:
        """A bearer request's RateLimit fields, Retry-After, and its `send`, which charges a
        401 to the address's budget of refused tokens."""
        staff = token.startswith(_STAFF_TOKEN)
        if self.refused:
            refusals = "!" + address
            if limiter.exhausted(refusals, self.refused, now):
                # Taking from an exhausted bucket takes nothing: it gives the Retry-After.
                limits, retry_after = limiter.take(refusals, self.refused, now)
                return limits, retry_after, send
            # A patient's token that opens no inquiry is a 404 (nothing to enumerate).
            refused = _STAFF_REFUSED if staff else _PATIENT_REFUSED
            send = _charging_refusals(send, limiter, refusals, self.refused, now, refused)
        limit = self.staff if staff else self.patient
        if not limit:
            return [], 0, send
        identity = ("staff:" if staff else "patient:") + hashlib.sha256(token).hexdigest()
        limits, retry_after = limiter.take(identity, limit, now)
        return limits, retry_after, send


def _take_key(
    limiter: RateLimiter, key: ApiKey, visitor: str | None, visitor_limit: int, now: float
) -> tuple[RawHeaders, int]:
    """A keyed request's RateLimit fields and Retry-After: the visitor's own bucket first (for
    a publishable key), so one visitor past it leaves the key's to the site's other visitors."""
    if visitor is not None and visitor_limit:
        limits, retry_after = limiter.take(f"{key.name}@{visitor}", visitor_limit, now)
        if retry_after:
            return limits, retry_after
    return limiter.take(f"{key.kind}:{key.name}", key.rate_per_minute, now)


_UNKNOWN_KEY = ("unknown_key", 401, "the API key is unknown or revoked")


def _refusal(key: ApiKey | None, origin: str | None) -> tuple[str, int, str] | None:
    """(reason, status, detail) of a key that may not make this request; None if it may."""
    if key is None:
        return _UNKNOWN_KEY
    if key.publishable:
        if origin is None:
            return (
                "no_origin",
                403,
                "a publishable key is accepted only from a browser page of its site's origins "
                "(Origin header); a server calls with a secret key",
            )
        if origin not in key.allowed_origins:
            return "origin", 403, f"origin {origin} may not use this API key"
        return None
    if origin is not None:
        return (
            "secret_in_browser",
            403,
            "a secret key is refused from a browser (Origin header): it is no secret in a page. "
            "Pages use a publishable key; revoke this one, as it may have leaked",
        )
    return None


def _bearer_token(authorization: bytes) -> bytes | None:
    """The token of an `Authorization: Bearer` field, or None. Which person or inquiry it
    opens is the guards' business: here it only names the bucket."""
    if authorization[:7].lower() != _BEARER:
        return None
    return authorization[7:].strip() or None


def _charging_refusals(
    send: Send,
    limiter: RateLimiter,
    address: str,
    limit: int,
    now: float,
    refused: frozenset[int],
) -> Send:
    """`send` that charges `address`'s budget of refused tokens when the answer's status is
    one of `refused`."""

    async def charging(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] in refused:
            limiter.take(address, limit, now)
        await send(message)

    return charging


def _cors(origin: bytes) -> RawHeaders:
    headers = [
        (b"access-control-allow-origin", origin),
        (b"access-control-expose-headers", EXPOSED_HEADERS),
    ]
    if origin != b"*":
        headers.append((b"vary", b"Origin"))
    return headers


async def _preflight(scope: Scope, send: Send, origin: str, allowed: bool) -> None:
    if not allowed:
        await send_problem(scope, send, 403, f"origin {origin} is not allowed by any API key")
        return
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", ALLOWED_METHODS),
                (b"access-control-allow-headers", ALLOWED_HEADERS),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE),
                (b"vary", b"Origin"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _require_key(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    del handler
    consumer: ApiKey | None = connection.scope.get("state", {}).get("consumer")
    if consumer is None:
        raise NotAuthorizedException(
            f"an API key is required: send it in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'},
        )


def consumer_only() -> dict[str, Any]:
    """Route options for a route only registered consumers may call (with their API key). Such
    a route acts for a person (a submission answers with the patient's access token), so its
    answers are never stored by caches; the key's own origins may read them."""
    return {
        "guards": [_require_key],
        "security": [{SECURITY_SCHEME: []}],
        "opt": personal_data("key"),
    }
