"""Binds a request id and a correlation id to every log line of an HTTP request and to every
event it emits; both are echoed in response headers so a caller can quote them."""

from __future__ import annotations

import re
import uuid

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID = "x-request-id"
CORRELATION_ID = "x-correlation-id"
# Caller-supplied ids are echoed into logs and headers, so only plain tokens are accepted.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = _header_id(headers.get(REQUEST_ID.encode())) or uuid.uuid4().hex
        correlation_id = _header_id(headers.get(CORRELATION_ID.encode())) or request_id

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableScopeHeaders.from_message(message)
                out[REQUEST_ID] = request_id
                out[CORRELATION_ID] = correlation_id
            await send(message)

        with structlog.contextvars.bound_contextvars(
            request_id=request_id, correlation_id=correlation_id
        ):
            await app(scope, receive, send_with_ids)

    return middleware


def _header_id(value: bytes | None) -> str | None:
    return None if value is None else safe_id(value.decode("latin-1"))


def safe_id(value: str | None) -> str | None:
    """`value` if it is a plain id token, else None: ids from outside end up in logs, headers
    and other events, so nothing else passes."""
    return value if value is not None and _SAFE_ID.match(value) else None
