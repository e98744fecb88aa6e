"""RFC 9457 problem+json for every 4xx and 5xx, whichever layer raised it."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import asyncpg
import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap, Scope, Send

from services.runtime.core.errors import (
    DomainError,
    FieldProblem,
    IllegalTransition,
    Invalid,
    Unavailable,
)
from services.runtime.core.outages import RETRY_AFTER, TRANSIENT

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    # Always present (though RFC 9457 lets it default) so clients can switch on it.
    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    # Every input problem at once, each naming its field.
    errors: list[FieldProblem] | None = None
    # For illegal transitions: the states the resource may move to from here.
    allowed: list[str] | None = None


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str | None,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[Problem]:
    body = Problem(
        type="about:blank",
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
        **extra,
    )
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    errors = [
        FieldProblem(field=_field_name(e), message=str(e.get("message", "invalid")))
        for e in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(e, dict)
    ]
    return problem(
        request, 400, "the request is malformed; see errors", title="Invalid request", errors=errors
    )


# Litestar's key is where in the body msgspec failed ("programmes[0]"; "data" at the top); a
# missing or unknown field is named only in the message ("Object contains unknown field `why`").
_NAMED = re.compile(r"(?:unknown|required) field `([^`]+)`")


def _field_name(error: dict[str, Any]) -> str:
    key = str(error.get("key") or "")
    # Litestar names the source with its ParamType enum, whose str() is "ParamType.QUERY".
    source = str(getattr(error.get("source"), "value", error.get("source")) or "")
    if source == "body" or not source:
        named = _NAMED.search(str(error.get("message", "")))
        where = "" if key == "data" else key
        path = ".".join(p for p in (where, named.group(1) if named else "") if p)
        return path or "body"
    return f"{source}.{key}" if key else source


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    return problem(request, exc.status_code, exc.detail, headers=exc.headers)


def _domain(request: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    extra: dict[str, Any] = {}
    if isinstance(exc, Invalid):
        extra["errors"] = list(exc.problems)
    if isinstance(exc, IllegalTransition):
        extra["allowed"] = list(exc.allowed)
    return problem(request, exc.status, exc.detail, title=exc.title, **extra)


def _unstorable_text(
    request: Request[Any, Any, Any], exc: asyncpg.exceptions.DataError
) -> Response[Problem]:
    # PostgreSQL text holds no NUL character; the statement failed, so its transaction changed
    # nothing. Caught here, once, rather than checked in every field of every route.
    del exc
    return problem(request, 400, "text must not contain the NUL character (U+0000)")


UNAVAILABLE = "a service this request needs is briefly unavailable; retry shortly"


def _unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # A dependency is away (a database restart, say): the client may retry, nothing is broken.
    log.warning("dependency unavailable", path=request.url.path, error=type(exc).__name__)
    return problem(request, 503, UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER)})


def _peer_unavailable(request: Request[Any, Any, Any], exc: Unavailable) -> Response[Problem]:
    # Another service did not answer: its detail says what was not done, so the client knows
    # nothing happened and may retry.
    log.warning("peer unavailable", path=request.url.path, detail=exc.detail)
    return problem(request, 503, exc.detail, headers={"Retry-After": str(exc.retry_after)})


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.error("unhandled error", path=request.url.path, exc_info=exc)
    return problem(request, 500, "an unexpected error occurred; quote the request_id to support")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ValidationException: _validation,
    HTTPException: _http,
    DomainError: _domain,
    Unavailable: _peer_unavailable,
    asyncpg.exceptions.CharacterNotInRepertoireError: _unstorable_text,
    asyncpg.exceptions.UntranslatableCharacterError: _unstorable_text,
    **dict.fromkeys(TRANSIENT, _unavailable),
    Exception: _unexpected,
}


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A problem answered straight over ASGI, by layers outside the app's exception handlers."""
    body = msgspec.json.encode(
        Problem(
            type="about:blank",
            title=HTTPStatus(status).phrase,
            status=status,
            detail=detail,
            instance=scope["path"],
        )
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_unavailable(scope: Scope, send: Send) -> None:
    """The 503 a layer outside the app answers when a dependency is away: the same answer the
    app's own handler gives, so clients retry both the same way."""
    retry = [(b"retry-after", str(RETRY_AFTER).encode())]
    await send_problem(scope, send, 503, UNAVAILABLE, retry)
