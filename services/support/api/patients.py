"""HTTP doors for the patient, with their inquiry access token: open a case, follow it, write
in its thread. The token is checked by inquiries (request/reply) on every call."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.openapi.spec import SecurityScheme
from litestar.params import FromPath

from services.runtime.http.json_input import json_body
from services.runtime.http.route_policy import personal_data
from services.runtime.http.validation import decode_all_problems
from services.support import usecases
from services.support.api.forms import MessageForm, PatientCaseForm
from services.support.domain.model import Case, CaseView, NewCase

# How routes ask for the desk: `desk: DeskDependency`.
DeskDependency = NamedDependency[usecases.Desk]

PATIENT_SCHEME = "patientToken"
SECURITY_SCHEMES = {
    PATIENT_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        description="The patient's inquiry access token, checked by the inquiries service",
    )
}
PATIENT_ONLY: dict[str, Any] = {
    "security": [{PATIENT_SCHEME: []}],
    "opt": personal_data("key"),
}


def patient_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(
            "the patient's access token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return token.strip()


async def _token_present(connection: ASGIConnection[Any, Any, Any, Any], handler: object) -> None:
    """401 before the body is read; whether the token opens the case is the use case's."""
    del handler
    patient_token(connection)


class PatientCaseController(Controller):
    path = "/v1/support/cases"
    tags = ("support",)
    guards = [_token_present]  # noqa: RUF012 - Litestar's declaration

    @post(
        "/",
        summary="Open a support case with the inquiry's access token",
        description=(
            'Body: {"inquiry_id", "category": "transfer" | "interpreter" | "medicine" | '
            '"medical" | "billing" | "other", "priority": "urgent" | "normal", "language", '
            '"message"}. A medical case is urgent and is answered at once with what to do in '
            "an emergency. 404 when the token does not open the inquiry."
        ),
        status_code=201,
        **PATIENT_ONLY,
    )
    async def open_case(self, request: Request[Any, Any, Any], desk: DeskDependency) -> Case:
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
        token = patient_token(request)
        form = decode_all_problems(await json_body(request), MessageForm)
        await usecases.patient_case(desk, case_id, token)
        await usecases.write(desk, case_id, "patient", None, form.message)
