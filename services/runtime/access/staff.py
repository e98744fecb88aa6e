"""Staff authentication: opaque bearer tokens bound to a person and roles, stored as SHA-256
hashes (the tokens are 256-bit random, so a slow hash would add nothing), checked by a guard.

Every token expires (90 days unless issued otherwise). An admin rotates a token: a new secret
for the same person and roles, while the old one keeps working for a grace period. Tokens are
looked up on every request (no cache), with the database's clock, so an expiry or a revocation
counts from the next request on."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal, cast, get_args

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from services.runtime.core.db import Connection, Pool
from services.runtime.http.route_policy import personal_data

Role = Literal[
    "admin", "editor", "coordinator", "lead_coordinator", "medical_reviewer", "support_agent"
]
ROLES: tuple[str, ...] = get_args(Role)
# Roles that include another's rights: a lead coordinator does all a coordinator does, and sees
# every case besides (admins may everything any role may).
IMPLIES: dict[str, frozenset[str]] = {"lead_coordinator": frozenset({"coordinator"})}
DEFAULT_TTL_DAYS = 90
DEFAULT_TTL = timedelta(days=DEFAULT_TTL_DAYS)
MAX_TTL_DAYS = 3650
DEFAULT_GRACE_HOURS = 24
MAX_GRACE_HOURS = 720
SCHEMA = "staff"
TOKEN_PREFIX = "cbs_"  # noqa: S105 - a marker that makes leaked tokens greppable, not a secret
SECURITY_SCHEME = "staffToken"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    token_id: uuid.UUID
    person: str
    roles: tuple[Role, ...]

    def may(self, role: str) -> bool:
        """Admins may do everything any role may; a role may what the roles it implies may."""
        return (
            role in self.roles
            or "admin" in self.roles
            or any(role in IMPLIES.get(held, ()) for held in self.roles)
        )


class StaffToken(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    person: str
    roles: tuple[Role, ...]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    replaced_by: uuid.UUID | None = None


class ExpiredToken(msgspec.Struct, frozen=True, kw_only=True):
    """A token that was valid once: known, not revoked, past its expiry (or rotation grace)."""

    expires_at: datetime
    replaced_by: uuid.UUID | None


class RotatedToken(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a rotation: the new secret (shown once) and until when the old one works."""

    id: uuid.UUID
    token: str
    person: str
    roles: tuple[Role, ...]
    expires_at: datetime
    previous_id: uuid.UUID
    previous_expires_at: datetime


class NoSuchToken(LookupError):
    """No token with that id, or it was revoked."""


class AlreadyRotated(ValueError):
    """The token was rotated before; rotate its replacement instead."""


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def check_ttl_days(days: int) -> timedelta:
    """A token's lifetime in whole days, 1 to MAX_TTL_DAYS; ValueError says what is allowed."""
    if not 1 <= days <= MAX_TTL_DAYS:
        raise ValueError(f"a token lives 1 to {MAX_TTL_DAYS} days, not {days}")
    return timedelta(days=days)


def hours(count: int) -> timedelta:
    """A rotation's grace period, 0 to MAX_GRACE_HOURS hours."""
    if not 0 <= count <= MAX_GRACE_HOURS:
        raise ValueError(f"a grace period is 0 to {MAX_GRACE_HOURS} hours, not {count}")
    return timedelta(hours=count)


async def create_token(
    conn: Connection,
    *,
    person: str,
    roles: tuple[Role, ...],
    ttl: timedelta = DEFAULT_TTL,
) -> tuple[uuid.UUID, str]:
    """Issue a token valid for `ttl`; the plaintext is returned once and never stored."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"roles must be a non-empty subset of {ROLES}, got {roles}")
    if ttl <= timedelta(0):
        raise ValueError(f"a token's lifetime must be positive, not {ttl}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = uuid.uuid4()
    await conn.execute(
        f"""INSERT INTO {SCHEMA}.staff_tokens (id, person, roles, token_hash, expires_at)
            VALUES ($1, $2, $3, $4, now() + $5::interval)""",
        token_id,
        person,
        list(roles),
        hash_token(token),
        ttl,
    )
    return token_id, token


async def verify(conn: Connection | Pool, token: str) -> Principal | ExpiredToken | None:
    """Who a token speaks for; ExpiredToken when it did once; None when unknown or revoked.
    Expiry is judged by the database's clock, the one every replica shares."""
    row = await conn.fetchrow(
        f"""SELECT id, person, roles, expires_at, replaced_by, expires_at <= now() AS expired
            FROM {SCHEMA}.staff_tokens
            WHERE token_hash = $1 AND revoked_at IS NULL""",
        hash_token(token),
    )
    if row is None:
        return None
    if row["expired"]:
        return ExpiredToken(expires_at=row["expires_at"], replaced_by=row["replaced_by"])
    return Principal(token_id=row["id"], person=row["person"], roles=tuple(row["roles"]))


async def find_principal(conn: Connection | Pool, token: str) -> Principal | None:
    """The principal of a token that is valid now; None otherwise (also when expired)."""
    found = await verify(conn, token)
    return found if isinstance(found, Principal) else None


async def list_tokens(conn: Connection) -> list[StaffToken]:
    rows = await conn.fetch(
        f"""SELECT id, person, roles, created_at, expires_at, revoked_at, replaced_by
            FROM {SCHEMA}.staff_tokens ORDER BY created_at"""
    )
    return [msgspec.convert(dict(r.items()), StaffToken) for r in rows]


async def rotate_token(
    conn: Connection,
    token_id: uuid.UUID,
    *,
    grace: timedelta,
    ttl: timedelta = DEFAULT_TTL,
) -> RotatedToken:
    """Issue a new token for the same person and roles; the old one works for `grace` more
    (never longer than it would have anyway). NoSuchToken when unknown or revoked,
    AlreadyRotated when it was rotated before. One transaction, the old row locked, so two
    admins rotating at once make one replacement, not two."""
    if grace < timedelta(0):
        raise ValueError(f"the grace period must not be negative, not {grace}")
    async with conn.transaction():
        old = await conn.fetchrow(
            f"""SELECT person, roles, replaced_by FROM {SCHEMA}.staff_tokens
                WHERE id = $1 AND revoked_at IS NULL FOR UPDATE""",
            token_id,
        )
        if old is None:
            raise NoSuchToken(f"no active token {token_id}: unknown or revoked")
        if old["replaced_by"] is not None:
            raise AlreadyRotated(
                f"token {token_id} was already rotated to {old['replaced_by']}; rotate that one"
            )
        roles = cast(tuple[Role, ...], tuple(old["roles"]))
        new_id, secret = await create_token(conn, person=old["person"], roles=roles, ttl=ttl)
        previous_expires_at = await conn.fetchval(
            f"""UPDATE {SCHEMA}.staff_tokens
                SET replaced_by = $2, expires_at = least(expires_at, now() + $3::interval)
                WHERE id = $1 RETURNING expires_at""",
            token_id,
            new_id,
            grace,
        )
        expires_at = await conn.fetchval(
            f"SELECT expires_at FROM {SCHEMA}.staff_tokens WHERE id = $1", new_id
        )
    return RotatedToken(
        id=new_id,
        token=secret,
        person=old["person"],
        roles=roles,
        expires_at=expires_at,
        previous_id=token_id,
        previous_expires_at=previous_expires_at,
    )


async def revoke_token(conn: Connection, token_id: uuid.UUID) -> bool:
    status = await conn.execute(
        f"UPDATE {SCHEMA}.staff_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        token_id,
    )
    return status == "UPDATE 1"


def requires(role: Role | None) -> Guard:
    """A guard admitting staff holding `role` (or admin), or any valid staff token when `role`
    is None; 401 without a valid token, else 403."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        del handler  # the required role is bound in this closure, not read from the route
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException(
                "a staff bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )
        principal = await verify(connection.app.state.runtime.pool, token.strip())
        if principal is None:
            raise NotAuthorizedException(
                "the bearer token is unknown or revoked",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if isinstance(principal, ExpiredToken):
            raise NotAuthorizedException(_expired(principal), headers=_EXPIRED_CHALLENGE)
        # Kept before the role check, so the audit log records refused attempts too.
        connection.state.principal = principal
        if role is not None and not principal.may(role):
            raise PermissionDeniedException(f"this action needs the {role} role")

    return guard


# RFC 6750 §3.1: an expired token is an `invalid_token`; the description says which case it is.
_EXPIRED_CHALLENGE = {
    "WWW-Authenticate": 'Bearer error="invalid_token", error_description="the token expired"'
}


def _expired(token: ExpiredToken) -> str:
    when = token.expires_at.isoformat(timespec="seconds")
    if token.replaced_by is not None:
        return f"the bearer token expired at {when}: it was rotated, use its replacement"
    return f"the bearer token expired at {when}: ask an admin for a new one"


def staff_only(role: Role | None) -> dict[str, Any]:
    """Route options for a staff-only handler: the guard plus its OpenAPI security entry, which
    names the role (OpenAPI 3.1 lists roles for non-OAuth schemes), so clients and the access
    tests read from the document which role a route needs; None: any staff token."""
    return {
        "guards": [requires(role)],
        "security": [{SECURITY_SCHEME: [] if role is None else [role]}],
        # Staff answers are for one person: never stored by a cache, never read cross-origin.
        "opt": personal_data("none"),
    }
