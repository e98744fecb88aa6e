"""HTTP doors of the logistics service: coordinators book and follow transfers, interpreters and
shipments, and keep the partner registry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from contracts.inquiries import InquiryId
from contracts.logistics import (
    BookingDetails,
    BookingKind,
    BookingStatus,
    Country,
    Iata,
    InterpreterDetails,
    Language,
    Line,
    Name,
    PartnerId,
    ShipmentDetails,
    TransferDetails,
)
from contracts.registry import RESERVED_PARTNER_IDS
from services.logistics import domain, store, usecases
from services.runtime.access.staff import staff_only
from services.runtime.core.errors import BadRequest, FieldProblem, Invalid
from services.runtime.http.cursors import AwareDatetime, decode_cursor, encode_cursor
from services.runtime.http.validation import Form, decode_all_problems, field_problems
from services.runtime.service.definition import KeysDependency, RuntimeDependency

MAX_LIMIT = 100
# How routes ask for the dispatch settings: `dispatch: DispatchDependency`.
DispatchDependency = NamedDependency[usecases.Dispatch]
DETAILS: dict[str, type[BookingDetails]] = {
    "transfer": TransferDetails,
    "interpreter": InterpreterDetails,
    "shipment": ShipmentDetails,
}


class NewBooking(Form, frozen=True, kw_only=True):
    inquiry_id: InquiryId | None = None
    kind: BookingKind
    # Decoded by `kind` below, so every problem in it is reported with its path.
    details: dict[str, Any]


class CancelBooking(Form, frozen=True, kw_only=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] = (
        "cancelled by a coordinator"
    )


class CoverageForm(Form, frozen=True, kw_only=True):
    airports: tuple[Iata, ...] = ()
    cities: tuple[Line, ...] = ()
    countries: tuple[Country, ...] = ()


class PartnerForm(Form, frozen=True, kw_only=True):
    name: Name
    kinds: Annotated[tuple[BookingKind, ...], msgspec.Meta(min_length=1)]
    coverage: CoverageForm = CoverageForm()
    languages: tuple[Language, ...] = ()
    capabilities: tuple[domain.Capability, ...] = ()
    # Higher goes first.
    priority: Annotated[int, msgspec.Meta(ge=-1000, le=1000)] = 0
    active: bool = True


class NewPartner(PartnerForm, frozen=True, kw_only=True):
    id: PartnerId


class ReplacePartner(PartnerForm, frozen=True, kw_only=True):
    # Optional here: the path names the partner; if given it must agree.
    id: PartnerId | None = None


class PartnerActive(Form, frozen=True, kw_only=True):
    active: bool


class BookingView(msgspec.Struct, frozen=True, kw_only=True):
    booking: store.Booking
    timeline: list[store.TimelineEntry]
    offers: list[store.OfferRow]


class BookingPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[store.Booking]
    next_cursor: str | None


def decode_new_booking(body: bytes) -> tuple[InquiryId | None, BookingDetails]:
    """The request, with its details decoded as its `kind`; every problem at once (400)."""
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest([FieldProblem(field="body", message=f"not valid JSON: {exc}")]) from None
    if not isinstance(raw, dict):
        raise BadRequest([FieldProblem(field="body", message="expected a JSON object")])
    problems = field_problems(raw, NewBooking)
    kind, details = raw.get("kind"), raw.get("details")
    if isinstance(kind, str) and kind in DETAILS and isinstance(details, dict):
        details = dict(details)
        tag = details.pop("kind", kind)
        if tag != kind:
            problems.append(
                FieldProblem(
                    field="details.kind", message=f"is {tag!r} but the booking is {kind!r}"
                )
            )
        problems += field_problems(details, DETAILS[kind], prefix="details.")
    if problems:
        raise BadRequest(problems)
    request = msgspec.convert(raw, NewBooking)
    return request.inquiry_id, msgspec.convert(details, DETAILS[request.kind])


class BookingController(Controller):
    path = "/v1/bookings"
    tags = ("bookings",)

    @post(
        "/",
        summary="Book a transfer, an interpreter or a medicine shipment",
        description=(
            'Body: {"inquiry_id": null or the inquiry\'s id, "kind": "transfer" | "interpreter" '
            '| "shipment", "details": {...}} with the details of that kind (see the '
            "BookingDetails schemas). Every problem is reported at once (400). The booking is "
            "offered to the best suitable partner straight away."
        ),
        status_code=201,
        **staff_only("coordinator"),
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        keys: KeysDependency,
        dispatch: DispatchDependency,
    ) -> BookingView:
        inquiry_id, details = decode_new_booking(await request.body())
        now = datetime.now(UTC)
        async with runtime.pool.acquire() as conn, conn.transaction():
            booking_id = await usecases.create_booking(
                conn, dispatch, details, inquiry_id=inquiry_id, now=now
            )
        assert booking_id is not None  # noqa: S101 - only event-requested bookings are deduplicated
        return _view(*await usecases.booking_with_history(runtime.pool, keys, booking_id))

    @get(
        "/",
        summary="List bookings, oldest first; filter by inquiry, status and kind",
        **staff_only("coordinator"),
    )
    async def list_bookings(
        self,
        runtime: RuntimeDependency,
        keys: KeysDependency,
        inquiry_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[BookingStatus | None] = None,
        kind: FromQuery[BookingKind | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> BookingPage:
        async with runtime.pool.acquire() as conn:
            rows = await store.list_bookings(
                conn,
                keys,
                inquiry_id=str(inquiry_id) if inquiry_id else None,
                status=status,
                kind=kind,
                after=decode_cursor(cursor, tuple[AwareDatetime, uuid.UUID]) if cursor else None,
                limit=limit + 1,
            )
        page = rows[:limit]
        more = len(rows) > limit
        return BookingPage(
            items=page,
            next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
        )

    @get(
        "/{booking_id:uuid}",
        summary="One booking with its timeline and the offers made for it",
        **staff_only("coordinator"),
    )
    async def one(
        self, runtime: RuntimeDependency, keys: KeysDependency, booking_id: FromPath[uuid.UUID]
    ) -> BookingView:
        return _view(*await usecases.booking_with_history(runtime.pool, keys, booking_id))

    @post(
        "/{booking_id:uuid}/cancel",
        summary="Cancel a booking; its partner is told. A dispatched shipment cannot be cancelled",
        status_code=200,
        **staff_only("coordinator"),
    )
    async def cancel(
        self,
        runtime: RuntimeDependency,
        keys: KeysDependency,
        dispatch: DispatchDependency,
        booking_id: FromPath[uuid.UUID],
        data: JSONBody[CancelBooking | None] = None,
    ) -> BookingView:
        reason = (data or CancelBooking()).reason
        await usecases.cancel_booking(
            runtime.pool, dispatch, booking_id, reason=reason, now=datetime.now(UTC)
        )
        return _view(*await usecases.booking_with_history(runtime.pool, keys, booking_id))

    @post(
        "/{booking_id:uuid}/dispatch",
        summary="Offer an unassigned booking again (after registering or activating a partner)",
        status_code=200,
        **staff_only("coordinator"),
    )
    async def dispatch_again(
        self,
        runtime: RuntimeDependency,
        keys: KeysDependency,
        dispatch: DispatchDependency,
        booking_id: FromPath[uuid.UUID],
    ) -> BookingView:
        await usecases.dispatch_again(runtime.pool, dispatch, booking_id, now=datetime.now(UTC))
        return _view(*await usecases.booking_with_history(runtime.pool, keys, booking_id))


def _view(
    booking: store.Booking, timeline: list[store.TimelineEntry], offers: list[store.OfferRow]
) -> BookingView:
    return BookingView(booking=booking, timeline=timeline, offers=offers)


PARTNER_BODY = (
    'Body: {"id", "name", "kinds": ["transfer" | "interpreter" | "shipment"], "coverage": '
    '{"airports": IATA codes, "cities", "countries": ISO codes}, "languages": ISO 639 codes '
    '(interpreters: both of a pair), "capabilities": ["ambulance" | "informed_consent" | '
    '"cold_chain"], "priority": higher first, "active"}. Every problem is reported at once (400).'
)


def _partner(partner_id: str, form: PartnerForm) -> domain.Partner:
    if partner_id in RESERVED_PARTNER_IDS:
        # The id is the partner's NATS user name (deploy/nats_auth.py): one a service or the
        # admin has would make NATS refuse its configuration.
        raise Invalid.single("id", f"{partner_id!r} is reserved for Carebridge's own use")
    return domain.Partner(
        id=partner_id,
        name=form.name,
        kinds=form.kinds,
        coverage=domain.Coverage(
            airports=form.coverage.airports,
            cities=form.coverage.cities,
            countries=form.coverage.countries,
        ),
        languages=form.languages,
        capabilities=form.capabilities,
        priority=form.priority,
        active=form.active,
    )


class PartnerController(Controller):
    path = "/v1/partners"
    tags = ("partners",)

    @post(
        "/",
        summary="Register a partner (409 if the id exists; PUT replaces)",
        description=PARTNER_BODY,
        status_code=201,
        **staff_only("coordinator"),
    )
    async def register(
        self, request: Request[Any, Any, Any], runtime: RuntimeDependency
    ) -> domain.Partner:
        form = decode_all_problems(await request.body(), NewPartner)
        partner = _partner(form.id, form)
        await usecases.register_partner(runtime.pool, partner, now=datetime.now(UTC))
        return partner

    @put(
        "/{partner_id:str}",
        summary="Create or replace a partner (idempotent: a stack registers its partners on start)",
        description=PARTNER_BODY,
        **staff_only("coordinator"),
    )
    async def replace(
        self,
        request: Request[Any, Any, Any],
        runtime: RuntimeDependency,
        partner_id: FromPath[PartnerId],
    ) -> Response[domain.Partner]:
        form = decode_all_problems(await request.body(), ReplacePartner)
        if form.id is not None and form.id != partner_id:
            raise BadRequest(
                [
                    FieldProblem(
                        field="id", message=f"is {form.id!r} but the path names {partner_id!r}"
                    )
                ]
            )
        partner = _partner(partner_id, form)
        created = await usecases.put_partner(runtime.pool, partner, now=datetime.now(UTC))
        return Response(partner, status_code=201 if created else 200)

    @get("/", summary="List partners, highest priority first", **staff_only("coordinator"))
    async def list_partners(
        self,
        runtime: RuntimeDependency,
        kind: FromQuery[BookingKind | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> list[domain.Partner]:
        async with runtime.pool.acquire() as conn:
            return await store.list_partners(conn, kind=kind, active=active)

    @get("/{partner_id:str}", summary="One partner", **staff_only("coordinator"))
    async def one(self, runtime: RuntimeDependency, partner_id: FromPath[str]) -> domain.Partner:
        return await usecases.partner(runtime.pool, partner_id)

    @patch(
        "/{partner_id:str}",
        summary="Activate or deactivate a partner: an inactive one is offered nothing new",
        **staff_only("coordinator"),
    )
    async def set_active(
        self, runtime: RuntimeDependency, partner_id: FromPath[str], data: JSONBody[PartnerActive]
    ) -> domain.Partner:
        return await usecases.set_partner_active(
            runtime.pool, partner_id, data.active, now=datetime.now(UTC)
        )
