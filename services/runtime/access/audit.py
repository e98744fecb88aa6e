"""The audit log: who changed what. Every request that changes state (any method but GET, HEAD
and OPTIONS), or reads what its route marks as audited (AUDIT_READS), and carries a valid staff
token is recorded with the person, their roles, the route template, the ids in its path and the
answer's status, whatever the service.

Recorded at the HTTP edge rather than in each use case, so no route can forget it; the row is
written before the answer leaves, so a client never sees a change the log lacks. Refused
attempts (401/403/409/…) are recorded too: they are what an auditor looks for."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime.access.staff import Principal
from services.runtime.core.db import Connection, Pool
from services.runtime.core.outages import TRANSIENT
from services.runtime.http.problems import send_unavailable

log = structlog.get_logger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Route option (`opt={AUDIT_READS: True}`) for a read an auditor must see too: staff reading a
# person's whole record (the data export) is recorded like a change.
AUDIT_READS = "audit_reads"


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime
    token_id: uuid.UUID
    person: str
    roles: list[str]
    method: str
    route: str
    target: dict[str, str]
    status: int
    request_id: str | None


async def record(
    conn: Connection | Pool,
    principal: Principal,
    *,
    method: str,
    route: str,
    target: dict[str, str],
    status: int,
    request_id: str | None,
) -> None:
    await conn.execute(
        """INSERT INTO audit_log (token_id, person, roles, method, route, target, status,
                                  request_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        principal.token_id,
        principal.person,
        list(principal.roles),
        method,
        route,
        msgspec.json.encode(target).decode(),
        status,
        request_id,
    )


async def list_entries(
    conn: Connection,
    *,
    person: str | None,
    route: str | None,
    since: datetime | None,
    before_id: int | None,
    limit: int,
) -> list[AuditEntry]:
    """Newest first; `before_id` continues from the last entry of a previous page."""
    rows = await conn.fetch(
        """SELECT id, at, token_id, person, roles, method, route, target, status, request_id
           FROM audit_log
           WHERE ($1::text IS NULL OR person = $1)
             AND ($2::text IS NULL OR route = $2)
             AND ($3::timestamptz IS NULL OR at >= $3)
             AND ($4::bigint IS NULL OR id < $4)
           ORDER BY id DESC LIMIT $5""",
        person,
        route,
        since,
        before_id,
        limit,
    )
    return [
        msgspec.convert({**dict(r.items()), "target": msgspec.json.decode(r["target"])}, AuditEntry)
        for r in rows
    ]


def audit_middleware(app: ASGIApp, pool: Callable[[], Pool]) -> ASGIApp:
    """Records staff changes; the staff guard leaves the principal in the request state."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        method = scope["method"]
        read = method in SAFE_METHODS
        replaced = False

        async def send_after_audit(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return
            # Whether a read is audited is known only once routed: the route opts in.
            if message["type"] == "http.response.start" and (not read or _audits_reads(scope)):
                try:
                    await _record(scope, method, message["status"], pool)
                except TRANSIENT as exc:
                    # No answer without its audit row: the client is told to retry instead,
                    # and reads the resource again (a change may have been made).
                    log.warning("audit log unavailable", error=type(exc).__name__)
                    replaced = True
                    await send_unavailable(scope, send)
                    return
            await send(message)

        await app(scope, receive, send_after_audit)

    return middleware


def _audits_reads(scope: Scope) -> bool:
    handler = scope.get("route_handler")
    return handler is not None and bool(handler.opt.get(AUDIT_READS))


async def _record(scope: Scope, method: str, status: int, pool: Callable[[], Pool]) -> None:
    state: dict[str, Any] = scope.get("state", {})
    principal = state.get("principal")
    if not isinstance(principal, Principal):
        return
    target = {k: str(v) for k, v in (scope.get("path_params") or {}).items()}
    await record(
        pool(),
        principal,
        method=method,
        route=scope.get("path_template") or scope["path"],
        target=target,
        status=status,
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
    )
