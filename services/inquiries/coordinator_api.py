"""The coordinators' doors (staff role `coordinator`, or admin): find cases, read one in full,
assign, take notes, and move the case through its lifecycle.

Every change to a case names the version it is based on in `If-Match: "<version>"` (the case's
ETag): a stale one is a 412, a missing one a 428, so two coordinators never overwrite each
other. Notes are the exception: they are only ever appended."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody

from services.inquiries import casework, offers
from services.inquiries.forms import (
    Assignment,
    CasePage,
    CaseView,
    Confirmation,
    ConsentEntry,
    Discharge,
    NoteForm,
    NoteView,
    OfferForm,
    Transition,
)
from services.runtime.access.staff import Principal, staff_only
from services.runtime.http.preconditions import IfMatch, etag, required_version
from services.runtime.http.problems import MEDIA_TYPE, Problem
from services.runtime.privacy.crypto import KeyRing
from services.runtime.service.definition import KeysDependency, Runtime, RuntimeDependency

NO_STORE = "private, no-store"
COORDINATOR = staff_only("coordinator")


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type=MEDIA_TYPE,
        generate_examples=False,
    )


# What a change to a case may answer besides success, documented once for every such route.
CHANGE = {
    404: _problem("No such case"),
    409: _problem("The lifecycle does not allow this step now; `allowed` lists what may follow"),
    412: _problem("If-Match names an older version: reload the case and apply the change again"),
    422: _problem("The step breaks a rule; `errors` lists every problem"),
    428: _problem('If-Match is missing: send the version the change is based on, e.g. "3"'),
}


def _person(request: Request[Any, Any, Any]) -> str:
    principal: Principal = request.state.principal
    return principal.person


def _now() -> datetime:
    return datetime.now(UTC)


async def _case(runtime: Runtime, keys: KeyRing, inquiry_id: uuid.UUID) -> Response[CaseView]:
    view = await casework.case_view(runtime.pool, keys, inquiry_id)
    return Response(view, headers={"ETag": etag(view.version), "Cache-Control": NO_STORE})


class CoordinatorController(Controller):
    path = "/v1/coordinator/inquiries"
    tags = ("coordinators",)

    @get(
        "/",
        summary="Cases, newest first, filtered; keyset pages (pass next_cursor as cursor)",
        description=(
            f"Filters: status, condition_slug, submitted_from and submitted_to (dates, "
            f"inclusive, UTC), coordinator. limit is 1 to {casework.MAX_PAGE} (50 by default). "
            "A bad filter, limit or cursor is a 400 naming it."
        ),
        **COORDINATOR,
    )
    async def list_cases(
        self,
        runtime: RuntimeDependency,
        status: FromQuery[str | None] = None,
        condition_slug: FromQuery[str | None] = None,
        submitted_from: FromQuery[date | None] = None,
        submitted_to: FromQuery[date | None] = None,
        coordinator: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> Response[CasePage]:
        query = casework.CaseQuery(
            status=status,
            condition_slug=condition_slug,
            submitted_from=submitted_from,
            submitted_to=submitted_to,
            coordinator=coordinator,
            cursor=cursor,
            limit=limit,
        )
        page = await casework.list_cases(runtime.pool, query)
        return Response(page, headers={"Cache-Control": NO_STORE})

    @get(
        "/{inquiry_id:uuid}",
        summary="One case in full: personal data, consents, timeline, offers, notes",
        **COORDINATOR,
    )
    async def read(
        self, runtime: RuntimeDependency, keys: KeysDependency, inquiry_id: FromPath[uuid.UUID]
    ) -> Response[CaseView]:
        return await _case(runtime, keys, inquiry_id)

    @put(
        "/{inquiry_id:uuid}/coordinator",
        summary="Assign the case to a coordinator (null unassigns); If-Match required",
        responses=CHANGE,
        **COORDINATOR,
    )
    async def assign(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
        data: JSONBody[Assignment],
        if_match: IfMatch = None,
    ) -> Response[CaseView]:
        await casework.assign(
            runtime.pool,
            inquiry_id,
            data.coordinator,
            by=_person(request),
            expected_version=required_version(if_match),
            now=_now(),
        )
        return await _case(runtime, keys, inquiry_id)

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
            runtime.pool, keys, inquiry_id, data.text, author=_person(request), now=_now()
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
    async def transition(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
        data: JSONBody[Transition],
        if_match: IfMatch = None,
    ) -> Response[CaseView]:
        await casework.transition(
            runtime.pool,
            runtime.outbox,
            inquiry_id,
            data,
            by=_person(request),
            expected_version=required_version(if_match),
            now=_now(),
        )
        return await _case(runtime, keys, inquiry_id)

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
    async def send_offer(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
        data: JSONBody[OfferForm],
        if_match: IfMatch = None,
    ) -> Response[CaseView]:
        await offers.send_offer(
            runtime.pool,
            runtime.outbox,
            keys,
            inquiry_id,
            data,
            by=_person(request),
            expected_version=required_version(if_match),
            now=_now(),
        )
        response = await _case(runtime, keys, inquiry_id)
        response.status_code = 201
        return response

    @post(
        "/{inquiry_id:uuid}/offers/{offer_version:int}/accept",
        summary="Accept an offer version on the patient's behalf; If-Match required",
        status_code=200,
        responses=CHANGE,
        **COORDINATOR,
    )
    async def accept_offer(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
        offer_version: FromPath[int],
        if_match: IfMatch = None,
    ) -> Response[CaseView]:
        await offers.accept_offer(
            runtime.pool,
            runtime.outbox,
            inquiry_id,
            offer_version,
            by=_person(request),
            expected_version=required_version(if_match),
            now=_now(),
        )
        return await _case(runtime, keys, inquiry_id)

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
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
        data: JSONBody[Confirmation],
        if_match: IfMatch = None,
    ) -> Response[CaseView]:
        await casework.confirm(
            runtime.pool,
            runtime.outbox,
            keys,
            inquiry_id,
            data,
            by=_person(request),
            expected_version=required_version(if_match),
            now=_now(),
        )
        return await _case(runtime, keys, inquiry_id)

    @post(
        "/{inquiry_id:uuid}/discharge",
        summary="Record the discharge: fit to fly, medication; books return transfer, shipment",
        status_code=200,
        responses=CHANGE,
        **COORDINATOR,
    )
    async def discharge(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromPath[uuid.UUID],
        data: JSONBody[Discharge],
        if_match: IfMatch = None,
    ) -> Response[CaseView]:
        await casework.discharge(
            runtime.pool,
            runtime.outbox,
            keys,
            inquiry_id,
            data,
            by=_person(request),
            expected_version=required_version(if_match),
            now=_now(),
        )
        return await _case(runtime, keys, inquiry_id)

    @get(
        "/{inquiry_id:uuid}/consents",
        summary="The case's consent log per purpose, oldest first",
        **COORDINATOR,
    )
    async def consents(
        self, runtime: RuntimeDependency, inquiry_id: FromPath[uuid.UUID]
    ) -> Response[list[ConsentEntry]]:
        entries = await casework.consents_of(runtime.pool, inquiry_id)
        return Response(entries, headers={"Cache-Control": NO_STORE})
