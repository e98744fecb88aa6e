"""HTTP door of the patient-data side: an admin erases a closed case's personal data, and can
show afterwards that (and when, and why) it happened."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from services.inquiries import erasure
from services.inquiries.erasure import ErasureReceipt
from services.runtime.access.staff import Principal, staff_only
from services.runtime.service.definition import RuntimeDependency

# How routes ask for what an erasure needs: `erasing: ErasingDependency`.
ErasingDependency = NamedDependency[erasure.Erasing]


class PrivacyController(Controller):
    path = "/v1/inquiries"
    tags = ("patient data",)

    @post(
        "/{inquiry_id:uuid}/erasure",
        summary="Erase the personal data of a closed inquiry (admin)",
        description=(
            "Wipes the patient's personal and health data and the stored answers to the "
            "submitting site, revokes the patient's access token, keeps an anonymous record "
            "(id, status, condition, dates, erased_at) and, when the case was priced, paid or "
            "booked, a pseudonymous billing stub for the accounting period "
            "(`billing_stub_until`), and announces the erasure so every service wipes its "
            "copies and every partner is asked to. 409 when the case is still open (cancel it "
            "first) or was erased already; 404 for an unknown id."
        ),
        status_code=200,
        **staff_only("admin"),
    )
    async def erase(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        erasing: ErasingDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> ErasureReceipt:
        principal: Principal = request.state.principal
        return await erasure.erase(
            runtime.pool, erasing, inquiry_id, by=principal.person, now=datetime.now(UTC)
        )

    @get(
        "/{inquiry_id:uuid}/erasure",
        summary="The receipt of an erasure: when, why, and until when the billing stub stays",
        description="404 when the case's personal data was not erased (or the id is unknown).",
        **staff_only("admin"),
    )
    async def erasure_receipt(
        self, runtime: RuntimeDependency, inquiry_id: FromPath[uuid.UUID]
    ) -> ErasureReceipt:
        return await erasure.receipt(runtime.pool, inquiry_id)
