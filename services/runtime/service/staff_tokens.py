"""The admins' door to staff tokens, served by every service (staff tokens are shared, like an
identity provider's): rotate a token, the new secret answered once."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Response, post
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


class StaffTokenController(Controller):
    path = "/admin/staff-tokens"
    tags = ("operations",)

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
