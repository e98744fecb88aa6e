"""The reply API of partners on the webhook channel: what a NATS partner publishes on its
replies subject, posted with the partner's token instead, and the offers it still holds (for a
partner whose endpoint missed a webhook). A token acts for its own partner only, as a NATS
partner's subject does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityScheme

from contracts.partners import Offer, PartnerReply, partner_reply_decoder
from services.logistics import usecases
from services.logistics.api import BookingCollaboratorsDependency
from services.runtime.core.errors import BadRequest, FieldProblem
from services.runtime.http.api_audiences import PARTNER_SCHEME
from services.runtime.http.json_input import json_body
from services.runtime.http.route_policy import personal_data
from services.runtime.service.running import Runtime

SECURITY_SCHEMES = {
    PARTNER_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        description=(
            "A webhook partner's reply-API token (`cbw_…`), answered once at registration "
            "and at each rotation"
        ),
    )
}
_SENDER = "partner_id"


async def partner_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The bearer token must be a partner's valid token; the partner it names is the sender."""
    del handler
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    runtime: Runtime = connection.app.state.runtime
    sender = (
        await usecases.partner_of_token(runtime.pool, token.strip(), now=datetime.now(UTC))
        if scheme.lower() == "bearer"
        else None
    )
    if sender is None:
        raise NotAuthorizedException(
            "a partner's reply-API token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    connection.state[_SENDER] = sender


PARTNER_ONLY: dict[str, Any] = {
    "guards": [partner_guard],
    "security": [{PARTNER_SCHEME: []}],
    "opt": personal_data("none"),
}
REPLY_BODY = (
    "Body: exactly a message of the partner's NATS replies subject (contracts/asyncapi.yaml): "
    '{"type": "offer_accepted" | "offer_declined" | "status_update" | "incident_reported", …}. '
    "It is applied at once under the same rules: a reply about an offer or booking the "
    "partner does not hold, a repeated or late answer, changes nothing and is answered with a "
    "problem saying why (404, 409, 422)."
)


def _reply(body: bytes) -> PartnerReply:
    try:
        return partner_reply_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest([FieldProblem(field="body", message=str(exc))]) from None


class PartnerReplyController(Controller):
    path = "/v1/partner"
    tags = ("partner channel",)

    @post(
        "/replies",
        summary="Answer an offer, report progress or an incident, as a webhook partner",
        description=REPLY_BODY,
        status_code=202,
        **PARTNER_ONLY,
    )
    async def reply(
        self, request: Request[Any, Any, Any], bookings: BookingCollaboratorsDependency
    ) -> None:
        reply = _reply(await json_body(request))
        await usecases.answer_over_http(
            bookings, reply, request.state[_SENDER], now=datetime.now(UTC)
        )

    @get(
        "/offers",
        summary="The partner's open offers, as it was sent them (oldest first)",
        **PARTNER_ONLY,
    )
    async def open_offers(
        self, request: Request[Any, Any, Any], bookings: BookingCollaboratorsDependency
    ) -> list[Offer]:
        return await usecases.open_offers(bookings, request.state[_SENDER], now=datetime.now(UTC))
