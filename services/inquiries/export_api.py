"""HTTP door of the access and portability export: the patient with their access token, or an
admin, downloads everything every service keeps about a case as one JSON document."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from services.inquiries import export
from services.inquiries.api import NO_STORE, PATIENT_SCHEME, _patient_guard
from services.runtime.access import audit, staff
from services.runtime.http.problems import MEDIA_TYPE, Problem
from services.runtime.service.definition import RuntimeDependency

# How routes ask for the exporter: `exporter: ExporterDependency`.
ExporterDependency = NamedDependency[export.Exporter]
_ADMIN = staff.requires("admin")


async def _patient_or_admin(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Staff tokens carry their own prefix, so the token says which check applies: a staff
    token must be an admin's (401 unknown, 403 another role), any other must be the case's
    own access token (404 otherwise, as on every patient route)."""
    _, _, token = connection.headers.get("authorization", "").partition(" ")
    if not token.strip().startswith(staff.TOKEN_PREFIX):
        await _patient_guard(connection, handler)
        return
    checked = _ADMIN(connection, handler)
    if checked is not None:  # Litestar's guard type allows either; the staff guard is async
        await checked


class ExportController(Controller):
    path = "/v1/inquiries"
    tags = ("patient data",)

    @get(
        "/{inquiry_id:uuid}/export",
        summary="Export all personal data of a case (the patient's token, or an admin)",
        description=(
            "One JSON document with everything every service keeps about the case: the "
            "inquiry with its personal data decrypted (patient, description, diagnoses, "
            "consents, timeline, offers, notes, confirmation, discharge), logistics' bookings "
            "(details decrypted, timeline), and each service's disclosure log: every time the "
            "data left a service, to whom, which fields, when and on what legal basis. The "
            "export itself is recorded there as a disclosure to its recipient. 503 when "
            "logistics does not answer in time: nothing is exported or recorded, try again. "
            "Authorization: Bearer <access_token>, or an admin's staff token."
        ),
        responses={
            503: ResponseSpec(
                data_container=Problem,
                description="Logistics did not answer in time: nothing exported, try again",
                media_type=MEDIA_TYPE,
                generate_examples=False,
            )
        },
        guards=[_patient_or_admin],
        opt={audit.AUDIT_READS: True},
        security=[{PATIENT_SCHEME: []}, {staff.SECURITY_SCHEME: ["admin"]}],
    )
    async def export_case(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        exporter: ExporterDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> Response[export.CaseDocument]:
        principal: staff.Principal | None = request.state.get("principal")
        recipient = (
            export.Recipient(type="data_subject", name="patient")
            if principal is None
            else export.Recipient(type="staff", name=principal.person)
        )
        document = await export.export_case(
            runtime.pool,
            runtime.bus,
            exporter,
            inquiry_id,
            recipient=recipient,
            reference=structlog.contextvars.get_contextvars().get("request_id"),
            now=datetime.now(UTC),
        )
        return Response(
            document,
            headers={
                "Cache-Control": NO_STORE,
                "Content-Disposition": f'attachment; filename="case-{inquiry_id}.json"',
            },
        )
