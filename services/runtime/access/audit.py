"""The audit log: who changed what, and who read whose data. Every request that changes state
(any method but GET, HEAD and OPTIONS), or reads what its route marks as audited (`reads()`:
every route that answers decrypted personal or health data to staff), and carries a valid staff
token is recorded with the person, their roles, the route template, the ids in its path, the
cases it concerns and the answer's status, whatever the service.

The cases: the `inquiry_id` in the path or the query, and any a handler names with `concerns()`
(a booking read names its booking's case). An auditor filters by case; the patient's export
lists the reads of their case.

Recorded at the HTTP edge rather than in each use case, so no route can forget it; the row is
written before the answer leaves, so a client never sees a change the log lacks. Refused
attempts (401/403/409/…) are recorded too: they are what an auditor looks for."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import msgspec
import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from contracts.exports import StaffRead
from services.runtime.access.staff import Principal
from services.runtime.core.db import Connection, Pool
from services.runtime.core.outages import TRANSIENT
from services.runtime.http.problems import send_unavailable

log = structlog.get_logger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Route option (`opt={AUDIT_READS: True}`) for a read an auditor must see too: staff reading a
# person's whole record (the data export) is recorded like a change.
AUDIT_READS = "audit_reads"
# Where in the request state a handler leaves the cases a request concerns (see `concerns`).
_CASES = "audit_cases"
# The path or query parameter that names a case, in every service.
CASE_PARAMETER = "inquiry_id"


def reads(options: dict[str, Any]) -> dict[str, Any]:
    """Route options (staff_only's) made to audit reads too: for a route that answers
    decrypted personal or health data."""
    return {**options, "opt": {**options.get("opt", {}), AUDIT_READS: True}}


def concerns(state: Any, case_ids: Iterable[object]) -> None:
    """Name the cases a request concerns when neither its path nor its query says (a booking
    read by its own id): `audit.concerns(request.state, [booking.inquiry_id])`."""
    known: list[str] = state.get(_CASES) or []
    known += [str(c) for c in case_ids if c is not None and str(c) not in known]
    state[_CASES] = known


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: datetime
    token_id: uuid.UUID
    person: str
    roles: list[str]
    method: str
    route: str
    target: dict[str, str]
    cases: list[str]
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
    cases: list[str] | None = None,
) -> None:
    await conn.execute(
        """INSERT INTO audit_log (token_id, person, roles, method, route, target, status,
                                  request_id, cases)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        principal.token_id,
        principal.person,
        list(principal.roles),
        method,
        route,
        msgspec.json.encode(target).decode(),
        status,
        request_id,
        cases or [],
    )


async def list_entries(
    conn: Connection,
    *,
    person: str | None,
    route: str | None,
    since: datetime | None,
    before_id: int | None,
    limit: int,
    case: str | None = None,
    until: datetime | None = None,
) -> list[AuditEntry]:
    """Newest first; `before_id` continues from the last entry of a previous page."""
    rows = await conn.fetch(
        """SELECT id, at, token_id, person, roles, method, route, target, cases, status,
                  request_id
           FROM audit_log
           WHERE ($1::text IS NULL OR person = $1)
             AND ($2::text IS NULL OR route = $2)
             AND ($3::timestamptz IS NULL OR at >= $3)
             AND ($4::bigint IS NULL OR id < $4)
             AND ($6::text IS NULL OR cases @> ARRAY[$6::text])
             AND ($7::timestamptz IS NULL OR at < $7)
           ORDER BY id DESC LIMIT $5""",
        person,
        route,
        since,
        before_id,
        limit,
        case,
        until,
    )
    return [
        msgspec.convert({**dict(r.items()), "target": msgspec.json.decode(r["target"])}, AuditEntry)
        for r in rows
    ]


async def reads_of_case(conn: Connection, case: str) -> list[StaffRead]:
    """Who of staff read the case's data and when, oldest first: the audited reads that were
    answered (a refused read showed nothing)."""
    rows = await conn.fetch(
        """SELECT person, route, at FROM audit_log
           WHERE cases @> ARRAY[$1::text] AND method = ANY($2::text[]) AND status < 400
           ORDER BY id""",
        case,
        sorted(SAFE_METHODS),
    )
    return [StaffRead(person=r["person"], route=r["route"], read_at=r["at"]) for r in rows]


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
        cases=_cases(scope, state, target),
    )


def _is_case_id(text: str) -> bool:
    """Only an id is kept from a query (a malformed one was refused anyway)."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _cases(scope: Scope, state: dict[str, Any], target: dict[str, str]) -> list[str]:
    named: list[str] = []
    if CASE_PARAMETER in target:
        named.append(target[CASE_PARAMETER])
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    named += [v for v in query.get(CASE_PARAMETER, [])[:1] if _is_case_id(v)]
    named += state.get(_CASES) or []
    return list(dict.fromkeys(named))
