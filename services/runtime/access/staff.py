"""Staff authentication: opaque bearer tokens bound to a person and roles, stored as SHA-256
hashes (the tokens are 256-bit random, so a slow hash would add nothing), checked by a guard."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any, Literal, get_args

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from services.runtime.core.db import Connection, Pool
from services.runtime.http.route_policy import personal_data

Role = Literal["admin", "editor", "coordinator", "support_agent"]
ROLES: tuple[str, ...] = get_args(Role)
SCHEMA = "staff"
TOKEN_PREFIX = "cbs_"  # noqa: S105 - a marker that makes leaked tokens greppable, not a secret
SECURITY_SCHEME = "staffToken"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    token_id: uuid.UUID
    person: str
    roles: tuple[Role, ...]

    def may(self, role: str) -> bool:
        """Admins may do everything any role may."""
        return role in self.roles or "admin" in self.roles


class StaffToken(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    person: str
    roles: tuple[Role, ...]
    created_at: datetime
    revoked_at: datetime | None


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_token(
    conn: Connection, *, person: str, roles: tuple[Role, ...]
) -> tuple[uuid.UUID, str]:
    """Issue a token; the plaintext is returned once and never stored."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"roles must be a non-empty subset of {ROLES}, got {roles}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = uuid.uuid4()
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.staff_tokens (id, person, roles, token_hash)
            VALUES ($1, $2, $3, $4)""",
        token_id,
        person,
        list(roles),
        hash_token(token),
    )
    return token_id, token


async def find_principal(conn: Connection | Pool, token: str) -> Principal | None:
    row = await conn.fetchrow(
        f"""SELECT id, person, roles FROM {SCHEMA}.staff_tokens
            WHERE token_hash = $1 AND revoked_at IS NULL""",
        hash_token(token),
    )
    if row is None:
        return None
    return Principal(token_id=row["id"], person=row["person"], roles=tuple(row["roles"]))


async def list_tokens(conn: Connection) -> list[StaffToken]:
    rows = await conn.fetch(
        f"""SELECT id, person, roles, created_at, revoked_at
            FROM {SCHEMA}.staff_tokens ORDER BY created_at"""
    )
    return [msgspec.convert(dict(r.items()), StaffToken) for r in rows]


async def revoke_token(conn: Connection, token_id: uuid.UUID) -> bool:
    status = await conn.execute(
        f"UPDATE {SCHEMA}.staff_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        token_id,
    )
    return status == "UPDATE 1"


def requires(role: Role) -> Guard:
    """A guard admitting staff holding `role` (or admin); 401 without a valid token, else 403."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        del handler  # the required role is bound in this closure, not read from the route
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException(
                "a staff bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )
        principal = await find_principal(connection.app.state.runtime.pool, token.strip())
        if principal is None:
            raise NotAuthorizedException(
                "the bearer token is unknown or revoked",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        # Kept before the role check, so the audit log records refused attempts too.
        connection.state.principal = principal
        if not principal.may(role):
            raise PermissionDeniedException(f"this action needs the {role} role")

    return guard


def staff_only(role: Role) -> dict[str, Any]:
    """Route options for a staff-only handler: the guard plus its OpenAPI security entry, which
    names the role (OpenAPI 3.1 lists roles for non-OAuth schemes), so clients and the access
    tests read from the document which role a route needs."""
    return {
        "guards": [requires(role)],
        "security": [{SECURITY_SCHEME: [role]}],
        # Staff answers are for one person: never stored by a cache, never read cross-origin.
        "opt": personal_data("none"),
    }
