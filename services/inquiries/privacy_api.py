"""HTTP door of the patient-data side: an admin erases a closed case's personal data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, post
from litestar.params import FromPath

from services.inquiries import erasure
from services.inquiries.erasure import ErasureReceipt
from services.runtime.staff import Principal, staff_only
from services.runtime.state import RuntimeDependency


class PrivacyController(Controller):
    path = "/v1/inquiries"
    tags = ("patient data",)

    @post(
        "/{inquiry_id:uuid}/erasure",
        summary="Erase the personal data of a closed inquiry (admin)",
        description=(
            "Wipes the patient's personal and health data and the stored answers to the "
            "submitting site, revokes the patient's access token, keeps an anonymous record "
            "(id, status, condition, dates, erased_at) and announces the erasure so every "
            "service wipes its copies. 409 when the case is still open (cancel it first) or "
            "was erased already; 404 for an unknown id."
        ),
        status_code=200,
        **staff_only("admin"),
    )
    async def erase(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> ErasureReceipt:
        principal: Principal = request.state.principal
        return await erasure.erase(
            runtime.pool, runtime.outbox, inquiry_id, by=principal.person, now=datetime.now(UTC)
        )
