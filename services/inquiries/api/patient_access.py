"""How the patient is let in: their access token (shown once in the answer to the submission) as
a bearer token, checked against the inquiry in the path before the body is read."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityScheme

from services.inquiries.usecases import intake
from services.runtime.access import staff
from services.runtime.http.route_policy import personal_data
from services.runtime.service.running import Runtime

NO_STORE = "private, no-store"
PATIENT_SCHEME = "patientToken"
SECURITY_SCHEMES = {
    PATIENT_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        description="The patient's access token, shown once in the answer to the submission",
    )
}
_ADMIN = staff.requires("admin")


async def patient_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The token must open the inquiry in the path (404 otherwise: nothing to enumerate)."""
    del handler
    inquiry_id: uuid.UUID = connection.path_params["inquiry_id"]
    runtime: Runtime = connection.app.state.runtime
    await intake.check_patient_access(runtime.pool, inquiry_id, patient_token(connection))


async def patient_or_admin(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Staff tokens carry their own prefix, so the token says which check applies: a staff
    token must be an admin's (401 unknown, 403 another role), any other must be the case's
    own access token (404 otherwise, as on every patient route)."""
    _, _, token = connection.headers.get("authorization", "").partition(" ")
    if not token.strip().startswith(staff.TOKEN_PREFIX):
        await patient_guard(connection, handler)
        return
    checked = _ADMIN(connection, handler)
    if checked is not None:  # Litestar's guard type allows either; the staff guard is async
        await checked


# Routes the patient calls with their own token.
PATIENT_ONLY: dict[str, Any] = {
    "guards": [patient_guard],
    "security": [{PATIENT_SCHEME: []}],
    "opt": personal_data("key"),
}


def patient_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The patient's access token; each use case checks it again against its inquiry."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(
            "the patient's access token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return token.strip()
