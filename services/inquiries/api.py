"""HTTP doors of the inquiries service for third-party sites and patients: submit, follow the
case, accept an offer, grant or withdraw consent. The patient's access token is the credential."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityScheme
from litestar.params import FromPath, HeaderParameter, JSONBody

from services.inquiries import offers, store, usecases
from services.inquiries.forms import ConsentEntry, ConsentForm, PatientCase
from services.inquiries.lifecycle import PATIENT
from services.inquiries.requests import SubmitInquiry, Submitted
from services.runtime.access.consumer_access import consumer_only
from services.runtime.core.errors import NotFound
from services.runtime.http.validation import decode_all_problems
from services.runtime.service.definition import KeysDependency, Runtime, RuntimeDependency

NO_STORE = "private, no-store"
PATIENT_SCHEME = "patientToken"
SECURITY_SCHEMES = {
    PATIENT_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        description="The patient's access token, shown once in the answer to the submission",
    )
}


async def _patient_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Before the body is read: the token must open the inquiry in the path. The answer is the
    same whether the inquiry does not exist or the token is not its own: nothing to enumerate."""
    del handler
    inquiry_id: uuid.UUID = connection.path_params["inquiry_id"]
    runtime: Runtime = connection.app.state.runtime
    async with runtime.pool.acquire() as conn:
        found = await store.find_by_token(
            conn, inquiry_id, usecases.hash_token(patient_token(connection))
        )
    if found is None:
        raise NotFound(f"no inquiry {inquiry_id} for this access token")


# Routes the patient calls with their own token.
PATIENT_ONLY: dict[str, Any] = {"guards": [_patient_guard], "security": [{PATIENT_SCHEME: []}]}
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
            "access_token is shown once. Needs the site's API key (X-API-Key)."
        ),
        status_code=201,
        **consumer_only(),
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
        **PATIENT_ONLY,
    )
    async def patient_view(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> Response[PatientCase]:
        view = await usecases.patient_view(runtime.pool, keys, inquiry_id, patient_token(request))
        return Response(view, headers={"Cache-Control": NO_STORE})

    @post(
        "/{inquiry_id:uuid}/offers/{offer_version:int}/accept",
        summary="The patient accepts one offer version (Authorization: Bearer <access_token>)",
        description=(
            "Refused with 409 when that version was superseded, withdrawn or has expired, or "
            "when the case is no longer waiting for an answer to an offer."
        ),
        status_code=200,
        **PATIENT_ONLY,
    )
    async def accept_offer(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
        offer_version: FromPath[int],
    ) -> Response[PatientCase]:
        token = patient_token(request)
        await offers.accept_offer(
            runtime.pool,
            runtime.outbox,
            inquiry_id,
            offer_version,
            by=PATIENT,
            now=datetime.now(UTC),
            patient_token_hash=usecases.hash_token(token),
        )
        view = await usecases.patient_view(runtime.pool, keys, inquiry_id, token)
        return Response(view, headers={"Cache-Control": NO_STORE})

    @get(
        "/{inquiry_id:uuid}/consents",
        summary="The patient's consent log, oldest first (Authorization: Bearer <access_token>)",
        **PATIENT_ONLY,
    )
    async def consents(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        inquiry_id: FromPath[uuid.UUID],
    ) -> Response[list[ConsentEntry]]:
        log = await usecases.patient_consents(runtime.pool, inquiry_id, patient_token(request))
        return Response(log, headers={"Cache-Control": NO_STORE})

    @post(
        "/{inquiry_id:uuid}/consents",
        summary="Grant or withdraw consent for one purpose (Authorization: Bearer <access_token>)",
        description=(
            "Body: purpose (health_data_processing, review_by_staff, forwarding_to_clinics, "
            "partner_sharing, marketing), granted, version of the consent text. One purpose per "
            "request: consents are never bundled. Withdrawing health_data_processing cancels an "
            "open case and stops it; withdrawing partner_sharing stops bookings. Answers the "
            "whole consent log."
        ),
        status_code=201,
        **PATIENT_ONLY,
    )
    async def record_consent(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        inquiry_id: FromPath[uuid.UUID],
        data: JSONBody[ConsentForm],
    ) -> Response[list[ConsentEntry]]:
        log = await usecases.record_consent(
            runtime.pool,
            runtime.outbox,
            inquiry_id,
            patient_token(request),
            data,
            now=datetime.now(UTC),
        )
        return Response(log, status_code=201, headers={"Cache-Control": NO_STORE})


def patient_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The patient's access token; each use case checks it again against its inquiry."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(
            "the patient's access token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return token.strip()
