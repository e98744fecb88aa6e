"""HTTP doors to bookings: coordinators book and follow transfers, interpreters and shipments,
cancel them and dispatch them again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from contracts.inquiries import InquiryId
from contracts.logistics import (
    BookingDetails,
    BookingKind,
    BookingStatus,
    InterpreterDetails,
    ShipmentDetails,
    TransferDetails,
)
from services.logistics import domain, usecases
from services.logistics.api import BookingCollaboratorsDependency
from services.logistics.usecases import BookingCollaborators
from services.runtime.access import audit
from services.runtime.access.staff import staff_only
from services.runtime.core.errors import BadRequest, FieldProblem
from services.runtime.http.cursors import AwareDatetime, decode_cursor, encode_cursor
from services.runtime.http.json_input import json_body
from services.runtime.http.validation import Form, field_problems, json_object

MAX_LIMIT = 100
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


class BookingView(msgspec.Struct, frozen=True, kw_only=True):
    booking: domain.Booking
    timeline: list[domain.TimelineEntry]
    offers: list[domain.OfferRow]


class BookingPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[domain.Booking]
    next_cursor: str | None


def decode_new_booking(body: bytes) -> tuple[InquiryId | None, BookingDetails]:
    """The request, with its details decoded as its `kind`; every problem at once (400)."""
    raw = json_object(body)
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
    async def create_booking(
        self, request: Request[Any, Any, Any], bookings: BookingCollaboratorsDependency
    ) -> BookingView:
        inquiry_id, details = decode_new_booking(await json_body(request))
        booking_id = await usecases.request_booking(
            bookings, details, inquiry_id=inquiry_id, now=datetime.now(UTC)
        )
        return await _view(bookings, booking_id)

    @get(
        "/",
        summary="List bookings, oldest first; filter by inquiry, status and kind",
        description="Each read is recorded in the audit log with the cases it showed.",
        **audit.reads(staff_only("coordinator")),
    )
    async def list_bookings(
        self,
        request: Request[Any, Any, Any],
        bookings: BookingCollaboratorsDependency,
        inquiry_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[BookingStatus | None] = None,
        kind: FromQuery[BookingKind | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> BookingPage:
        rows = await usecases.bookings_listed(
            bookings.pool,
            bookings.keys,
            inquiry_id=str(inquiry_id) if inquiry_id else None,
            status=status,
            kind=kind,
            after=decode_cursor(cursor, tuple[AwareDatetime, uuid.UUID]) if cursor else None,
            limit=limit + 1,
        )
        page = rows[:limit]
        audit.concerns(request.state, (b.inquiry_id for b in page))
        more = len(rows) > limit
        return BookingPage(
            items=page,
            next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
        )

    @get(
        "/{booking_id:uuid}",
        summary="One booking with its timeline and the offers made for it",
        description="Each read is recorded in the audit log with the booking's case.",
        **audit.reads(staff_only("coordinator")),
    )
    async def get_booking(
        self,
        request: Request[Any, Any, Any],
        bookings: BookingCollaboratorsDependency,
        booking_id: FromPath[uuid.UUID],
    ) -> BookingView:
        view = await _view(bookings, booking_id)
        audit.concerns(request.state, [view.booking.inquiry_id])
        return view

    @post(
        "/{booking_id:uuid}/cancel",
        summary="Cancel a booking; its partner is told. A dispatched shipment cannot be cancelled",
        status_code=200,
        **staff_only("coordinator"),
    )
    async def cancel_booking(
        self,
        bookings: BookingCollaboratorsDependency,
        booking_id: FromPath[uuid.UUID],
        data: JSONBody[CancelBooking | None] = None,
    ) -> BookingView:
        reason = (data or CancelBooking()).reason
        await usecases.cancel_booking(bookings, booking_id, reason=reason, now=datetime.now(UTC))
        return await _view(bookings, booking_id)

    @post(
        "/{booking_id:uuid}/dispatch",
        summary="Offer an unassigned booking again (after registering or activating a partner)",
        status_code=200,
        **staff_only("coordinator"),
    )
    async def redispatch_booking(
        self, bookings: BookingCollaboratorsDependency, booking_id: FromPath[uuid.UUID]
    ) -> BookingView:
        await usecases.dispatch_again(bookings, booking_id, now=datetime.now(UTC))
        return await _view(bookings, booking_id)


async def _view(bookings: BookingCollaborators, booking_id: uuid.UUID) -> BookingView:
    """The booking as it stands after the command, with its history."""
    booking, timeline, offers = await usecases.booking_with_history(
        bookings.pool, bookings.keys, booking_id
    )
    return BookingView(booking=booking, timeline=timeline, offers=offers)
