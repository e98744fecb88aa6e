"""HTTP doors of the inquiries service: third-party sites submit, patients follow their case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, HeaderParameter

from services.inquiries import usecases
from services.inquiries.crypto import KeyRing
from services.inquiries.requests import PatientView, SubmitInquiry, Submitted
from services.runtime.state import RuntimeDependency
from services.runtime.validation import decode_all_problems

KeysDependency = NamedDependency[KeyRing]
NO_STORE = "private, no-store"
IDEMPOTENCY_KEY = Annotated[
    str | None,
    HeaderParameter(
        name="idempotency-key",
        max_length=200,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="A retried submission returns the first answer, not a second inquiry",
    ),
]


class InquiryController(Controller):
    path = "/v1/inquiries"
    tags = ("inquiries",)

    @post(
        "/",
        summary="Submit a patient's inquiry",
        description=(
            "Body: patient (full_name, date_of_birth, sex, country, language, email, phone), "
            "condition_slug, description, diagnoses, preferred_country (DE by default), "
            "preferred_dates {from, to}, services (transfer, interpreter, medicine_shipment, "
            "support), consent {health_data_processing: true, version}, source. Every problem "
            "is reported at once: 400 for malformed fields, 422 for broken rules. The answer's "
            "access_token is shown once."
        ),
        status_code=201,
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        idempotency_key: IDEMPOTENCY_KEY = None,
    ) -> Response[Submitted]:
        body = await request.body()
        submission = decode_all_problems(body, SubmitInquiry)
        answer = await usecases.submit(
            runtime.pool,
            runtime.outbox,
            keys,
            submission,
            body=body,
            idempotency_key=idempotency_key,
            now=datetime.now(UTC),
        )
        return Response(answer, status_code=201, headers={"Cache-Control": NO_STORE})

    @get(
        "/{inquiry_id:uuid}",
        summary="The patient's view of an inquiry (Authorization: Bearer <access_token>)",
    )
    async def patient_view(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> Response[PatientView]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException(
                "the patient's access token is required", headers={"WWW-Authenticate": "Bearer"}
            )
        view = await usecases.patient_view(runtime.pool, inquiry_id, token.strip())
        return Response(view, headers={"Cache-Control": NO_STORE})
