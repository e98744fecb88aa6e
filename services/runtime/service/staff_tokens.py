"""The admins' door to staff tokens, served by every service (staff tokens are shared, like an
identity provider's): list them (never a secret), issue one, rotate one, revoke one; and every
token holder's `GET /staff/me` (its person and roles). A new
secret is answered once and never stored; every change is in the service's audit log (a staff
request that is not a read), the secret never."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from services.runtime.access import staff
from services.runtime.access.staff import staff_only
from services.runtime.core.errors import Conflict, NotFound
from services.runtime.service.running import RuntimeDependency


class Rotation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How long the old token keeps working, and how long the new one lives (unset: the
    service's STAFF_TOKEN_TTL_DAYS)."""

    grace_hours: Annotated[int, msgspec.Meta(ge=0, le=staff.MAX_GRACE_HOURS)] = (
        staff.DEFAULT_GRACE_HOURS
    )
    ttl_days: Annotated[int, msgspec.Meta(ge=1, le=staff.MAX_TTL_DAYS)] | None = None


class Issue(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who the token speaks for, with which roles, for how many days (unset: the service's
    STAFF_TOKEN_TTL_DAYS)."""

    person: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    roles: Annotated[list[staff.Role], msgspec.Meta(min_length=1, max_length=len(staff.ROLES))]
    ttl_days: Annotated[int, msgspec.Meta(ge=1, le=staff.MAX_TTL_DAYS)] | None = None


class IssuedToken(msgspec.Struct, frozen=True, kw_only=True):
    """A new token: its secret is in this answer only."""

    id: uuid.UUID
    token: str
    person: str
    roles: tuple[staff.Role, ...]
    expires_at: datetime


class Me(msgspec.Struct, frozen=True, kw_only=True):
    person: str
    roles: tuple[staff.Role, ...]


class StaffMeController(Controller):
    path = "/staff/me"
    tags = ("operations",)

    @get(
        "/",
        summary="Who the staff token is: its person and roles",
        description=(
            "For a client acting with a person's token (the console) to learn what they may do "
            "in one read; 401 for a token unknown, revoked or expired. Each route still decides."
        ),
        **staff_only(None),
    )
    async def who_am_i(self, request: Request[Any, Any, Any]) -> Me:
        principal: staff.Principal = request.state.principal
        return Me(person=principal.person, roles=principal.roles)


class StaffTokenController(Controller):
    path = "/admin/staff-tokens"
    tags = ("operations",)

    @get(
        "/",
        summary="Every staff token: person, roles, lifetime, state; never a secret",
        description=(
            "Oldest first, revoked and expired ones included (revoked_at, expires_at); a "
            "rotated token names its replacement (replaced_by)."
        ),
        **staff_only("admin"),
    )
    async def list_staff_tokens(self, runtime: RuntimeDependency) -> list[staff.StaffToken]:
        async with runtime.pool.acquire() as conn:
            return await staff.list_tokens(conn)

    @post(
        "/",
        summary="Issue a staff token: the secret is shown once",
        description=(
            f"Body: person, roles (one or more of {', '.join(staff.ROLES)}), ttl_days (1 to "
            f"{staff.MAX_TTL_DAYS}; the service's STAFF_TOKEN_TTL_DAYS by default). The "
            "answer holds the token; it is not stored and cannot be shown again."
        ),
        status_code=201,
        **staff_only("admin"),
    )
    async def issue_staff_token(
        self, runtime: RuntimeDependency, data: JSONBody[Issue]
    ) -> Response[IssuedToken]:
        days = data.ttl_days or runtime.settings.staff_token_ttl_days
        roles = tuple(dict.fromkeys(data.roles))  # a role named twice is held once
        async with runtime.pool.acquire() as conn:
            token_id, secret = await staff.create_token(
                conn, person=data.person.strip(), roles=roles, ttl=staff.check_ttl_days(days)
            )
            expires_at = await conn.fetchval(
                f"SELECT expires_at FROM {staff.SCHEMA}.staff_tokens WHERE id = $1", token_id
            )
        issued = IssuedToken(
            id=token_id,
            token=secret,
            person=data.person.strip(),
            roles=roles,
            expires_at=expires_at,
        )
        return Response(issued, status_code=201)

    @post(
        "/{token_id:uuid}/rotate",
        summary="Rotate a staff token: a new secret, shown once; the old one works for a grace",
        description=(
            f"Body (optional): grace_hours (0 to {staff.MAX_GRACE_HOURS}, "
            f"{staff.DEFAULT_GRACE_HOURS} by default): how long the old token keeps working "
            f"(never past its own expiry); ttl_days (1 to {staff.MAX_TTL_DAYS}): the new "
            "token's lifetime, the service's STAFF_TOKEN_TTL_DAYS by default. The answer holds "
            "the new token; it is not stored and cannot be shown again. 404 for an unknown or "
            "revoked token, 409 for one rotated before (rotate its replacement)."
        ),
        status_code=201,
        **staff_only("admin"),
    )
    async def rotate_staff_token(
        self,
        runtime: RuntimeDependency,
        token_id: FromPath[uuid.UUID],
        data: JSONBody[Rotation | None] = None,
    ) -> Response[staff.RotatedToken]:
        rotation = data or Rotation()
        days = rotation.ttl_days or runtime.settings.staff_token_ttl_days
        async with runtime.pool.acquire() as conn:
            try:
                rotated = await staff.rotate_token(
                    conn,
                    token_id,
                    grace=staff.hours(rotation.grace_hours),
                    ttl=staff.check_ttl_days(days),
                )
            except staff.NoSuchToken as exc:
                raise NotFound(str(exc)) from None
            except staff.AlreadyRotated as exc:
                raise Conflict(str(exc)) from None
        # Staff answers are never stored by a cache (staff_only's route policy).
        return Response(rotated, status_code=201)

    @post(
        "/{token_id:uuid}/revoke",
        summary="Revoke a staff token: refused from the next request on",
        description="404 for an unknown token or one revoked before.",
        status_code=204,
        **staff_only("admin"),
    )
    async def revoke_staff_token(
        self, runtime: RuntimeDependency, token_id: FromPath[uuid.UUID]
    ) -> None:
        async with runtime.pool.acquire() as conn:
            if not await staff.revoke_token(conn, token_id):
                raise NotFound(f"no active token {token_id}: unknown or revoked")
