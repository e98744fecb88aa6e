"""HTTP door of token recovery: a patient who lost their access token asks for a new one with
the email on file. The answer is the same whatever the email, and rate-limited per inquiry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath

from services.inquiries.api.patient_access import NO_STORE
from services.inquiries.domain.recovery import RECOVERY_LIMIT, RECOVERY_WINDOW
from services.inquiries.usecases import recovery
from services.runtime.http.json_input import json_body
from services.runtime.http.request_bodies import json_body_of
from services.runtime.http.validation import decode_all_problems
from services.runtime.service.running import KeysDependency, RuntimeDependency

HEARD = (
    "if this is the email on file, a new access token is on its way to it; the old one no "
    "longer works once it is sent"
)


class TokenRecovery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # Any text: an address that is not one simply matches nothing (the same answer).
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]


class RecoveryHeard(msgspec.Struct, frozen=True, kw_only=True):
    detail: str


class TokenRecoveryController(Controller):
    path = "/v1/inquiries"
    tags = ("inquiries",)

    @post(
        "/{inquiry_id:uuid}/token-recovery",
        summary="A patient who lost their access token asks for a new one",
        description=(
            'Body: {"email": "..."}. Always 202 with the same answer, whether or not the email '
            "is the one on file (and whether or not the inquiry exists): on a match, a fresh "
            "access token replaces the old one and is emailed to that address. "
            f"{RECOVERY_LIMIT} requests per inquiry per "
            f"{int(RECOVERY_WINDOW.total_seconds() // 60)} minutes, then 429."
        ),
        status_code=202,
        opt=json_body_of(TokenRecovery),
    )
    async def recover(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> Response[RecoveryHeard]:
        asked = decode_all_problems(await json_body(request), TokenRecovery)
        now = datetime.now(UTC)
        if not await recovery.hear_recovery(runtime.pool, inquiry_id, now):
            raise TooManyRequestsException(
                "too many recovery requests for this inquiry; try again later",
                headers={"Retry-After": str(int(RECOVERY_WINDOW.total_seconds()))},
            )
        # After the answer is sent: its timing cannot tell a match from a miss.
        match = BackgroundTask(
            recovery.recover_access,
            runtime.pool,
            runtime.outbox,
            keys,
            inquiry_id,
            asked.email,
            now,
        )
        return Response(
            RecoveryHeard(detail=HEARD),
            status_code=202,
            headers={"Cache-Control": NO_STORE},
            background=match,
        )
