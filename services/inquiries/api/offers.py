"""HTTP doors of treatment offers: coordinators send a (new version of the) offer and may accept
one on the patient's behalf; the patient accepts one with their access token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.params import FromPath, JSONBody

from services.inquiries.api.case_commands import CHANGE, COORDINATOR, PROVIDE, Command
from services.inquiries.api.patient_access import NO_STORE, PATIENT_ONLY, patient_token
from services.inquiries.domain.commands import OfferForm
from services.inquiries.domain.views import CaseView, PatientCase
from services.inquiries.usecases import intake, offers
from services.runtime.http.parameters import PositiveBigint
from services.runtime.service.running import KeysDependency, RuntimeDependency


class CoordinatorOfferController(Controller):
    path = "/v1/coordinator/inquiries"
    tags = ("coordinators",)
    dependencies = PROVIDE

    @post(
        "/{inquiry_id:uuid}/offers",
        summary="Send a (new version of the) treatment offer; it supersedes the open one",
        description=(
            "One or more programmes, each with clinic, physician, procedures, length of stay, "
            "cost items, total and advance in EUR as decimal strings (items add up to the "
            "total), and valid_until; the offer is non-binding. Past valid_until it expires."
        ),
        status_code=201,
        responses=CHANGE,
        **COORDINATOR,
    )
    async def send_offer(self, cmd: Command, data: JSONBody[OfferForm]) -> Response[CaseView]:
        await offers.send_offer(cmd.pool, cmd.outbox, cmd.keys, cmd.id, data, cmd.stamp)
        return await cmd.answer(status_code=201)

    @post(
        "/{inquiry_id:uuid}/offers/{offer_version:int}/accept",
        summary="Accept an offer version on the patient's behalf; If-Match required",
        status_code=200,
        responses=CHANGE,
        **COORDINATOR,
    )
    async def record_offer_acceptance(
        self, inquiry_id: FromPath[uuid.UUID], offer_version: PositiveBigint, cmd: Command
    ) -> Response[CaseView]:
        # The case's id is the command's; named here too so the document lists the path in
        # order (inquiry, offer version, If-Match) as it always has.
        del inquiry_id
        await offers.accept_offer(cmd.pool, cmd.outbox, cmd.id, offer_version, cmd.stamp)
        return await cmd.answer()


class PatientOfferController(Controller):
    path = "/v1/inquiries"
    tags = ("inquiries",)

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
        offer_version: PositiveBigint,
    ) -> Response[PatientCase]:
        token = patient_token(request)
        await offers.accept_offer_as_patient(
            runtime.pool,
            runtime.outbox,
            inquiry_id,
            offer_version,
            token_hash=intake.hash_token(token),
            now=datetime.now(UTC),
        )
        view = await intake.patient_view(runtime.pool, keys, inquiry_id, token)
        return Response(view, headers={"Cache-Control": NO_STORE})
