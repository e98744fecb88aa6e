"""HTTP doors of the patient's data rights: the patient grants or withdraws consent per purpose;
an admin erases a closed case's personal data and shows afterwards that (and when, and why) it
happened; the patient or an admin exports everything every service keeps about a case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from services.inquiries.api.patient_access import (
    NO_STORE,
    PATIENT_ONLY,
    PATIENT_SCHEME,
    patient_or_admin,
    patient_token,
)
from services.inquiries.domain.commands import ConsentForm
from services.inquiries.domain.views import ConsentEntry, ConsentReceipt
from services.inquiries.usecases.privacy import consent, erasure
from services.inquiries.usecases.privacy import export as export_usecase
from services.inquiries.usecases.privacy.erasure import ErasureReceipt
from services.runtime.access import audit, staff
from services.runtime.access.staff import Principal, staff_only
from services.runtime.http.problems import MEDIA_TYPE, Problem
from services.runtime.http.route_policy import personal_data
from services.runtime.service.running import KeysDependency, RuntimeDependency

# How routes ask for what an erasure needs: `erasing: ErasingDependency`.
ErasingDependency = NamedDependency[erasure.Erasing]
# How routes ask for the exporter: `exporter: ExporterDependency`.
ExporterDependency = NamedDependency[export_usecase.Exporter]


class ConsentController(Controller):
    path = "/v1/inquiries"
    tags = ("inquiries",)

    @get(
        "/{inquiry_id:uuid}/consents",
        summary="The patient's consent log, oldest first (Authorization: Bearer <access_token>)",
        **PATIENT_ONLY,
    )
    async def list_consents(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> Response[list[ConsentEntry]]:
        log = await consent.patient_consents(runtime.pool, inquiry_id, patient_token(request))
        return Response(log, headers={"Cache-Control": NO_STORE})

    @post(
        "/{inquiry_id:uuid}/consents",
        summary="Grant or withdraw consent for one purpose (Authorization: Bearer <access_token>)",
        description=(
            "Body: purpose (health_data_processing, review_by_staff, forwarding_to_clinics, "
            "partner_sharing), granted, version of the consent notice shown "
            "(GET /v1/consent-notices). One purpose per request: consents are never bundled. "
            "A grant names a published notice version that asks for the purpose (422 "
            "otherwise); a withdrawal is taken whatever version it names. Each step of the case "
            "refuses without its purpose: granting partner_sharing sends the booking requests "
            "held for it. Withdrawing health_data_processing cancels an open case and stops it; "
            "withdrawing partner_sharing stops bookings. Answers the whole consent log."
        ),
        status_code=201,
        **PATIENT_ONLY,
    )
    async def record_consent(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
        data: JSONBody[ConsentForm],
    ) -> Response[list[ConsentEntry]]:
        log = await consent.record_consent(
            runtime.pool,
            runtime.outbox,
            keys,
            inquiry_id,
            patient_token(request),
            data,
            now=datetime.now(UTC),
        )
        return Response(log, status_code=201, headers={"Cache-Control": NO_STORE})

    @get(
        "/{inquiry_id:uuid}/consent-receipt",
        summary="The patient's consent receipt (Authorization: Bearer <access_token>)",
        description=(
            "Each purpose of the consent notice, given or not, the notice version the answer "
            "was given against and when, and how to withdraw."
        ),
        **PATIENT_ONLY,
    )
    async def get_consent_receipt(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> Response[ConsentReceipt]:
        answer = await consent.receipt(
            runtime.pool, inquiry_id, patient_token(request), now=datetime.now(UTC)
        )
        return Response(answer, headers={"Cache-Control": NO_STORE})


class ErasureController(Controller):
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
    async def erase_inquiry(
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
    async def get_erasure_receipt(
        self, runtime: RuntimeDependency, inquiry_id: FromPath[uuid.UUID]
    ) -> ErasureReceipt:
        return await erasure.receipt(runtime.pool, inquiry_id)


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
            "(details decrypted, timeline), support's cases (thread decrypted, timeline), the "
            "messages notifications wrote to the patient (kind, channels, delivery, what they "
            "said), who of staff read the data in each service and when, and each service's "
            "disclosure log: every time the data left a service, to whom, which fields, when "
            "and on what legal basis. The export itself is recorded there as a disclosure to "
            "its recipient. 503 when logistics, support or notifications does not answer in "
            "time: nothing is exported or recorded, try again. "
            "Authorization: Bearer <access_token>, or an admin's staff token."
        ),
        responses={
            503: ResponseSpec(
                data_container=Problem,
                description=(
                    "Logistics, support or notifications did not answer in time: nothing "
                    "exported, try again"
                ),
                media_type=MEDIA_TYPE,
                generate_examples=False,
            )
        },
        guards=[patient_or_admin],
        opt={audit.AUDIT_READS: True, **personal_data("key")},
        security=[{PATIENT_SCHEME: []}, {staff.SECURITY_SCHEME: ["admin"]}],
    )
    async def export_inquiry(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        exporter: ExporterDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> Response[export_usecase.CaseDocument]:
        principal: staff.Principal | None = request.state.get("principal")
        recipient = (
            export_usecase.Recipient(type="data_subject", name="patient")
            if principal is None
            else export_usecase.Recipient(type="staff", name=principal.person)
        )
        document = await export_usecase.export_case(
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
