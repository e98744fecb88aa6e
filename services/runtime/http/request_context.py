"""Binds a request id and a correlation id to every log line of an HTTP request and to every
event it emits; both are echoed in response headers so a caller can quote them."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Final, cast

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime.http.access_log import AccessLog
from services.runtime.http.route_policy import apply_route_policy

# Headers an outer layer wants on the answer (rate limits, CORS), left in the scope rather than
# added by a `send` wrapper of its own: every answer passes here or through a fast path that
# reads them, and one wrapper less is measurable on cached reads.
RESPONSE_HEADERS = "carebridge.response_headers"
# What the scope is to the layers that keep their own entries in it. An alias, named once: a
# subscripted generic written inside `cast()` is built anew on every call, on every request.
_AnyScope = dict[str, Any]
HeaderMap = dict[bytes, bytes]
RawHeaders = list[tuple[bytes, bytes]]
# The request's headers as a dict, built once: the consumer-access layer passes its own on
# (`pass_on`), so the layers inside do not build it again.
HEADER_MAP = "carebridge.header_map"
# Looked up once: reading a member off its enum class costs five times the comparison.
HTTP: Final = ScopeType.HTTP
REQUEST_ID = "x-request-id"
CORRELATION_ID = "x-correlation-id"
REQUEST_ID_RAW = REQUEST_ID.encode()
# Caller-supplied ids are echoed into logs and headers, so only plain tokens are accepted.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_context_middleware(app: ASGIApp, access_log: AccessLog | None = None) -> ASGIApp:
    """`access_log`, when given and enabled, writes each request's line once it is answered."""
    logging = access_log is not None and access_log.enabled

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = header_map(scope)
        request_id = safe_header_id(headers.get(REQUEST_ID.encode())) or uuid.uuid4().hex
        correlation_id = safe_header_id(headers.get(CORRELATION_ID.encode())) or request_id
        status = 500
        size = 0

        async def send_with_ids(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                out = MutableScopeHeaders.from_message(message)
                out[REQUEST_ID] = request_id
                out[CORRELATION_ID] = correlation_id
                extra = apply_route_policy(scope, out, response_headers(scope))
                if extra:
                    message["headers"] = [*message["headers"], *extra]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        with structlog.contextvars.bound_contextvars(
            request_id=request_id, correlation_id=correlation_id
        ):
            try:
                await app(scope, receive, send_with_ids)
            finally:
                if logging:
                    cast(AccessLog, access_log).write(
                        method=scope["method"],
                        # The template Litestar routed to (set once routed), never the path.
                        route=cast(_AnyScope, scope).get("path_template") or "unmatched",
                        status=status,
                        duration=time.perf_counter() - started,
                        size=size,
                        request_id=request_id,
                        headers=headers,
                    )

    return middleware


def pass_on(
    scope: Scope,
    headers: HeaderMap,
    response: RawHeaders,
    consumer: object,
    visitor: str | None = None,
) -> None:
    """Leave an outer layer's work in the scope for the layers inside: the request's header
    map, the header fields the answer must carry, and the API consumer calling, if any (in the
    request state, as `consumer`), with the address of the visitor of its pages (`visitor`)."""
    entries = cast(_AnyScope, scope)
    entries[HEADER_MAP] = headers
    entries[RESPONSE_HEADERS] = response
    if consumer is not None:
        state = scope.setdefault("state", {})
        state["consumer"] = consumer
        if visitor is not None:
            state["visitor"] = visitor


def header_map(scope: Scope) -> HeaderMap:
    """Request header fields by (lower-case) name; of a repeated field, the last one."""
    found: HeaderMap | None = cast(_AnyScope, scope).get(HEADER_MAP)
    if found is None:
        found = cast(_AnyScope, scope)[HEADER_MAP] = dict(scope["headers"])
    return found


def response_headers(scope: Scope) -> RawHeaders:
    found: RawHeaders = cast(_AnyScope, scope).get(RESPONSE_HEADERS, [])
    return found


def safe_header_id(value: bytes | None) -> str | None:
    """A plain id token sent in a header field, or None."""
    return None if value is None else safe_id(value.decode("latin-1"))


def safe_id(value: str | None) -> str | None:
    """`value` if it is a plain id token, else None: ids from outside end up in logs, headers
    and other events, so nothing else passes."""
    return value if value is not None and _SAFE_ID.match(value) else None
