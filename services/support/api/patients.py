"""HTTP doors for the patient, with their inquiry access token: open a case, follow it, write
in its thread. The token is checked by inquiries (request/reply) on every call."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityScheme
from litestar.params import FromPath, HeaderParameter

from contracts.support import PATIENT_TOKEN_PATTERN
from services.runtime.access import staff
from services.runtime.core.errors import NotFound
from services.runtime.http.json_input import json_body
from services.runtime.http.route_policy import personal_data
from services.runtime.http.validation import decode_all_problems
from services.support import usecases
from services.support.api.forms import MessageForm, PatientCaseForm, PhoneCaseForm
from services.support.domain.model import Case, CaseView, NewCase

# How routes ask for the desk: `desk: DeskDependency`.
DeskDependency = NamedDependency[usecases.Desk]

PATIENT_SCHEME = "patientToken"
IDEMPOTENCY_KEY = Annotated[
    str | None,
    HeaderParameter(
        name="idempotency-key",
        max_length=200,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="A retried opening answers the case the first one opened, not a second",
    ),
]
_TOKEN_SHAPE = re.compile(PATIENT_TOKEN_PATTERN)
SECURITY_SCHEMES = {
    PATIENT_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        description="The patient's inquiry access token, checked by the inquiries service",
    )
}
_COORDINATOR = staff.requires("coordinator")


async def _patient_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: object) -> None:
    """401 or 404 before the body is read; whether the token opens the case is the use
    case's."""
    del handler
    patient_token(connection)


async def _patient_or_coordinator(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Staff tokens carry their own prefix, so the token says which check applies: a staff
    token must be a coordinator's (a patient on the phone), any other the patient's own."""
    _, _, token = connection.headers.get("authorization", "").partition(" ")
    if not token.strip().startswith(staff.TOKEN_PREFIX):
        patient_token(connection)
        return
    checked = _COORDINATOR(connection, handler)
    if checked is not None:  # Litestar's guard type allows either; the staff guard is async
        await checked


PATIENT_ONLY: dict[str, Any] = {
    "guards": [_patient_guard],
    "security": [{PATIENT_SCHEME: []}],
    "opt": personal_data("key"),
}


def patient_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """401 without a token; 404 for one that cannot be an access token, as for one that opens
    nothing, before the body is read."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(
            "the patient's access token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    if not _TOKEN_SHAPE.match(token.strip()):
        raise NotFound("nothing here for this access token")
    return token.strip()


async def _phone_case(
    request: Request[Any, Any, Any],
    desk: usecases.Desk,
    person: str,
    retry_key: tuple[str, str] | None,
) -> Case:
    """A coordinator writes down what a patient on the phone said."""
    form = decode_all_problems(await json_body(request), PhoneCaseForm)
    return await usecases.open_case(
        desk,
        NewCase(
            origin="coordinator",
            category=form.category,
            priority=form.priority,
            language=form.language,
            message=form.message,
            inquiry_id=form.inquiry_id,
            booking_id=form.booking_id,
            author="agent",
            author_name=person,
        ),
        retry_key=retry_key,
    )


class PatientCaseController(Controller):
    path = "/v1/support/cases"
    tags = ("support",)

    @post(
        "/",
        summary="Open a support case: the patient with their access token, or a coordinator "
        "for a patient on the phone",
        description=(
            'Body: {"inquiry_id", "category": "transfer" | "interpreter" | "medicine" | '
            '"medical" | "billing" | "other", "priority": "urgent" | "normal", "language", '
            '"message"}. A medical case is urgent and is answered at once with what to do in '
            "an emergency. 404 when the token does not open the inquiry. A coordinator's "
            'staff token may leave out "inquiry_id" and name a "booking_id".'
        ),
        status_code=201,
        guards=[_patient_or_coordinator],
        security=[{PATIENT_SCHEME: []}, {staff.SECURITY_SCHEME: ["coordinator"]}],
        opt=personal_data("key"),
    )
    async def open_case(
        self,
        request: Request[Any, Any, Any],
        desk: DeskDependency,
        idempotency_key: IDEMPOTENCY_KEY = None,
    ) -> Case:
        principal: staff.Principal | None = request.state.get("principal")
        if principal is not None:
            return await _phone_case(
                request,
                desk,
                principal.person,
                None if idempotency_key is None else (f"staff:{principal.person}", idempotency_key),
            )
        token = patient_token(request)
        form = decode_all_problems(await json_body(request), PatientCaseForm)
        await usecases.check_patient(desk, form.inquiry_id, token)
        return await usecases.open_case(
            desk,
            NewCase(
                origin="patient",
                category=form.category,
                priority=form.priority,
                language=form.language,
                message=form.message,
                inquiry_id=form.inquiry_id,
                author="patient",
            ),
            retry_key=(
                None if idempotency_key is None else (f"inquiry:{form.inquiry_id}", idempotency_key)
            ),
        )

    @get("/{case_id:uuid}", summary="A case, its timeline and its thread", **PATIENT_ONLY)
    async def get_case(
        self, request: Request[Any, Any, Any], desk: DeskDependency, case_id: FromPath[uuid.UUID]
    ) -> CaseView:
        await usecases.patient_case(desk, case_id, patient_token(request))
        return await usecases.case_view(desk, case_id)

    @post(
        "/{case_id:uuid}/messages",
        summary="Write in a case's thread",
        description='Body: {"message"}.',
        status_code=204,
        **PATIENT_ONLY,
    )
    async def write(
        self, request: Request[Any, Any, Any], desk: DeskDependency, case_id: FromPath[uuid.UUID]
    ) -> None:
        await usecases.patient_case(desk, case_id, patient_token(request))
        form = decode_all_problems(await json_body(request), MessageForm)
        await usecases.write(desk, case_id, "patient", None, form.message)
