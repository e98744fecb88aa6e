"""HTTP doors of intake, for third-party sites and patients: a site submits an inquiry (with its
API key), the patient follows it with their access token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, HeaderParameter

from services.inquiries.api.patient_access import NO_STORE, PATIENT_ONLY, patient_token
from services.inquiries.api.proof_of_work import (
    ALTCHA_HEADER,
    ProofDependency,
    check_browser_submission,
)
from services.inquiries.domain.intake import SubmitInquiry, Submitted
from services.inquiries.domain.views import PatientCase
from services.inquiries.usecases import intake
from services.runtime.access.consumer_access import consumer_only
from services.runtime.http.json_input import json_body
from services.runtime.http.request_bodies import json_body_of
from services.runtime.http.validation import decode_all_problems
from services.runtime.service.running import KeysDependency, RuntimeDependency

IDEMPOTENCY_KEY = Annotated[
    str | None,
    HeaderParameter(
        name="idempotency-key",
        max_length=200,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="A retried submission returns the first answer, not a second inquiry",
    ),
]


# A site's key (consumer_only), and the body the submission decodes to, for the document.
_SUBMISSION_ROUTE = consumer_only()
_SUBMISSION_ROUTE["opt"] = _SUBMISSION_ROUTE["opt"] | json_body_of(SubmitInquiry)


class IntakeController(Controller):
    path = "/v1/inquiries"
    tags = ("inquiries",)

    @post(
        "/",
        summary="Submit a patient's inquiry",
        description=(
            "Body: patient (full_name, date_of_birth, sex, country, language, email, phone), "
            "condition_slug, description, diagnoses, preferred_country (DE by default), "
            "preferred_dates {from, to}, services (transfer, interpreter, medicine_shipment, "
            "support), consent {version, health_data_processing: true, review_by_staff, "
            "forwarding_to_clinics, partner_sharing} (what the patient ticked against the "
            "consent notice `version`, GET /v1/consent-notices; a purpose left out is not "
            "given, and each step of the case refuses without its purpose), source. Every problem "
            "is reported at once: 400 for malformed fields, 422 for broken rules. The answer's "
            "access_token is shown once. Needs the site's API key (X-API-Key): a secret key "
            "from the site's server, or a publishable key from its pages, which also sends a "
            "solved proof-of-work challenge (`Altcha` header, one per submission; missing, "
            "wrong, expired or spent: 403) and is limited per visitor an hour (429)."
        ),
        status_code=201,
        **_SUBMISSION_ROUTE,
    )
    async def submit_inquiry(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        proof: ProofDependency,
        idempotency_key: IDEMPOTENCY_KEY = None,
        altcha: ALTCHA_HEADER = None,
    ) -> Response[Submitted]:
        body = await json_body(request)
        submission = decode_all_problems(body, SubmitInquiry)
        now = datetime.now(UTC)
        # After the body's checks, so a malformed form costs no solution.
        await check_browser_submission(request, runtime, proof, altcha, now)
        answer = await intake.submit(
            runtime.pool,
            runtime.outbox,
            keys,
            submission,
            body=body,
            consumer_id=request.state.consumer.id,
            idempotency_key=idempotency_key,
            now=now,
        )
        return Response(answer, status_code=201, headers={"Cache-Control": NO_STORE})

    @get(
        "/{inquiry_id:uuid}",
        summary="The patient's view of an inquiry (Authorization: Bearer <access_token>)",
        **PATIENT_ONLY,
    )
    async def get_inquiry_status(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> Response[PatientCase]:
        view = await intake.patient_view(runtime.pool, keys, inquiry_id, patient_token(request))
        return Response(view, headers={"Cache-Control": NO_STORE})
