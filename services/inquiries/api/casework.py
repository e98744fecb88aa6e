"""The coordinators' doors (staff role `coordinator`, `lead_coordinator`, or admin): find cases,
read one in full, assign, take notes, and move the case through its lifecycle. A coordinator
sees the cases assigned to them and the unassigned queue (case_commands.COORDINATOR's guard).
Changes name the version they are based on (see case_commands); notes are the exception: they
are only ever appended."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from services.inquiries.api.case_commands import (
    CHANGE,
    COORDINATOR,
    PROVIDE,
    Command,
    case_answer,
    person,
    viewer,
)
from services.inquiries.api.patient_access import NO_STORE
from services.inquiries.domain.commands import (
    Assignment,
    Confirmation,
    Discharge,
    NoteForm,
    Transition,
)
from services.inquiries.domain.views import CasePage, CaseView, ConsentEntry, NoteView
from services.inquiries.usecases import casework
from services.inquiries.usecases.privacy import consent
from services.runtime.access import audit
from services.runtime.core.errors import BadRequest, FieldProblem
from services.runtime.service.running import KeysDependency, RuntimeDependency


class CoordinatorController(Controller):
    path = "/v1/coordinator/inquiries"
    tags = ("coordinators",)
    dependencies = PROVIDE

    @get(
        "/",
        summary="Cases, newest first, filtered; keyset pages (pass next_cursor as cursor)",
        description=(
            f"Filters: status, condition_slug, submitted_from and submitted_to (dates, "
            f"inclusive, UTC), coordinator, unassigned (true: only the queue of cases no one "
            f"has claimed), mine (true: only the cases assigned to the caller; with a "
            f"coordinator naming someone else a 400), offer_expires_before (a time with its "
            f"offset: only cases whose open offer lapses before it). "
            f"limit is 1 to {casework.MAX_PAGE} (50 by default). A bad filter, "
            "limit or cursor is a 400 naming it. A coordinator sees the cases assigned to them "
            "and the unassigned ones; a lead_coordinator or an admin sees every case."
        ),
        **COORDINATOR,
    )
    async def list_inquiries(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        status: FromQuery[str | None] = None,
        condition_slug: FromQuery[str | None] = None,
        submitted_from: FromQuery[date | None] = None,
        submitted_to: FromQuery[date | None] = None,
        coordinator: FromQuery[str | None] = None,
        unassigned: FromQuery[bool] = False,
        mine: FromQuery[bool] = False,
        offer_expires_before: FromQuery[datetime | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=casework.MAX_PAGE)] = 50,
    ) -> Response[CasePage]:
        if mine:
            me = request.state.principal.person
            if coordinator is not None and coordinator != me:
                raise BadRequest(
                    [FieldProblem(field="coordinator", message="names someone else with mine")]
                )
            coordinator = me
        query = casework.CaseQuery(
            status=status,
            condition_slug=condition_slug,
            submitted_from=submitted_from,
            submitted_to=submitted_to,
            coordinator=coordinator,
            unassigned=unassigned,
            offer_expires_before=offer_expires_before,
            cursor=cursor,
            limit=limit,
        )
        page = await casework.list_cases(
            runtime.pool, query, viewer=viewer(request.state.principal)
        )
        return Response(page, headers={"Cache-Control": NO_STORE})

    @get(
        "/{inquiry_id:uuid}",
        summary="One case in full: personal data, consents, timeline, offers, notes",
        description=(
            "`consent` says per purpose whether the patient gave it (notice version, when); "
            "`blocked` lists each step waiting for a consent not given: the purpose it needs "
            "and why (booking requests held until the patient grants partner_sharing, a review "
            "without review_by_staff, an offer without forwarding_to_clinics). Each read is "
            "recorded in the audit log, and shown in the patient's export."
        ),
        **audit.reads(COORDINATOR),
    )
    async def get_inquiry(
        self, runtime: RuntimeDependency, keys: KeysDependency, inquiry_id: FromPath[uuid.UUID]
    ) -> Response[CaseView]:
        return await case_answer(runtime.pool, keys, inquiry_id)

    @put(
        "/{inquiry_id:uuid}/coordinator",
        summary="Assign the case to a coordinator (null unassigns); If-Match required",
        description=(
            "A coordinator claims a case (their own name) or releases it (null); assigning it "
            "to someone else needs the lead_coordinator role (422 otherwise)."
        ),
        responses=CHANGE,
        **COORDINATOR,
    )
    async def assign_coordinator(
        self, cmd: Command, data: JSONBody[Assignment]
    ) -> Response[CaseView]:
        await casework.assign(
            cmd.pool, cmd.outbox, cmd.id, data.coordinator, cmd.stamp, viewer=cmd.viewer
        )
        return await cmd.answer()

    @post(
        "/{inquiry_id:uuid}/notes",
        summary="Add a note (stored encrypted: it may hold health data); no If-Match needed",
        status_code=201,
        **COORDINATOR,
    )
    async def add_note(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
        data: JSONBody[NoteForm],
    ) -> Response[NoteView]:
        note = await casework.add_note(
            runtime.pool, keys, inquiry_id, data.text, author=person(request), now=datetime.now(UTC)
        )
        return Response(note, status_code=201, headers={"Cache-Control": NO_STORE})

    @post(
        "/{inquiry_id:uuid}/transitions",
        summary="Move the case to another state; 409 names the allowed ones; If-Match required",
        description=(
            "For in_review, records_requested, in_treatment, completed, declined and cancelled. "
            "offer_sent, accepted, confirmed and discharged have their own requests, since they "
            "carry what the step needs; expired is set by the offer expiry job."
        ),
        status_code=200,
        responses=CHANGE,
        **COORDINATOR,
    )
    async def transition_inquiry(
        self, cmd: Command, data: JSONBody[Transition]
    ) -> Response[CaseView]:
        await casework.transition(cmd.pool, cmd.outbox, cmd.id, data, cmd.stamp)
        return await cmd.answer()

    @post(
        "/{inquiry_id:uuid}/confirmation",
        summary="Record the advance or guarantee and the travel plan; books the planned services",
        description=(
            "payment: an advance (amount, paid_on, reference) or a guarantee (amount, "
            "issued_on, reference), each with its payer (self, relative, employer, embassy, "
            "insurer, other). plan: arrival flight, clinic, admission and discharge dates, "
            "services to book (transfer, interpreter; support needs no booking). Refused with "
            "409 when the patient withdrew consent to share data with partners and the plan "
            "books a service."
        ),
        status_code=200,
        responses=CHANGE,
        **COORDINATOR,
    )
    async def confirm_inquiry(
        self, cmd: Command, data: JSONBody[Confirmation]
    ) -> Response[CaseView]:
        await casework.confirm(cmd.pool, cmd.outbox, cmd.keys, cmd.id, data, cmd.stamp)
        return await cmd.answer()

    @post(
        "/{inquiry_id:uuid}/discharge",
        summary="Record the discharge: fit to fly, medication; books return transfer, shipment",
        status_code=200,
        responses=CHANGE,
        **COORDINATOR,
    )
    async def record_discharge(self, cmd: Command, data: JSONBody[Discharge]) -> Response[CaseView]:
        await casework.discharge(cmd.pool, cmd.outbox, cmd.keys, cmd.id, data, cmd.stamp)
        return await cmd.answer()

    @get(
        "/{inquiry_id:uuid}/consents",
        summary="The case's consent log per purpose, oldest first",
        **COORDINATOR,
    )
    async def review_consents(
        self, runtime: RuntimeDependency, inquiry_id: FromPath[uuid.UUID]
    ) -> Response[list[ConsentEntry]]:
        entries = await consent.consents_of(runtime.pool, inquiry_id)
        return Response(entries, headers={"Cache-Control": NO_STORE})
