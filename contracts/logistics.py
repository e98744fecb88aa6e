"""Bookings of the logistics service: what each kind of booking needs (shared with inquiries,
whose confirmed and discharged events request bookings) and the facts logistics announces.

Booking details hold the least personal data the job needs: the traveller's name, phone and
language, never a diagnosis. Details are tagged by `kind`, so a request or booking is one of
`transfer`, `interpreter` or `shipment`."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal

import msgspec

from contracts.envelope import AwareDatetime, Event

BookingKind = Literal["transfer", "interpreter", "shipment"]
BookingStatus = Literal[
    "requested",
    "offered",
    "confirmed",
    "in_progress",
    "completed",
    "unassigned",
    "cancelled",
    "failed",
]
Iata = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]
Specialty = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)]
Line = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+[1-9][0-9]{6,14}$")]
BookingId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f-]{36}$")]
PartnerId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)]


class Contract(msgspec.Struct, frozen=True, kw_only=True):
    """A value inside a message: frozen, keyword-only, unknown fields ignored (additive)."""


class Traveller(Contract, frozen=True, kw_only=True):
    """Who the partner meets or serves. Personal data: only what the job needs."""

    full_name: Name
    phone: Phone | None = None
    language: Language | None = None


class Address(Contract, frozen=True, kw_only=True):
    recipient: Name
    street: Line
    postal_code: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    city: Line
    country: Country


class TransferDetails(Contract, frozen=True, kw_only=True, tag_field="kind", tag="transfer"):
    """An airport transfer. A stretcher needs a partner with an ambulance-type vehicle."""

    flight_number: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{2}[0-9]{1,4}[A-Z]?$")]
    airport: Iata
    # For an arrival, when the flight lands; for a return, when the patient must be at the
    # airport (check-in), with `pickup_at` saying when to collect them.
    scheduled_arrival: AwareDatetime
    pickup_at: AwareDatetime | None = None
    passengers: Annotated[int, msgspec.Meta(ge=1, le=8)] = 1
    luggage: Annotated[int, msgspec.Meta(ge=0, le=20)] = 0
    mobility: Literal["none", "wheelchair", "stretcher"] = "none"
    meeting_point: Line | None = None
    pickup: Line
    dropoff: Line
    patient: Traveller
    # "arrival" from the airport to the clinic, or "return" from the clinic to the airport.
    direction: Literal["arrival", "return"] = "arrival"


class InterpreterSession(Contract, frozen=True, kw_only=True):
    date: date
    start: time
    duration_minutes: Annotated[int, msgspec.Meta(ge=15, le=600)]
    place: Line
    # An informed-consent talk needs a partner qualified for it.
    purpose: Literal[
        "admission", "consultation", "informed_consent", "ward_round", "discharge", "other"
    ] = "consultation"


class InterpreterDetails(Contract, frozen=True, kw_only=True, tag_field="kind", tag="interpreter"):
    """A personal interpreter between the patient's language and the clinic's."""

    language_from: Language
    language_to: Language = "de"
    specialty: Specialty
    sessions: Annotated[tuple[InterpreterSession, ...], msgspec.Meta(min_length=1, max_length=50)]
    patient: Traveller


class MedicineItem(Contract, frozen=True, kw_only=True):
    """Identified by active ingredient and strength: brand names differ between countries."""

    name: Name
    active_ingredient: Name
    strength: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    prescription_reference: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class ShipmentDetails(Contract, frozen=True, kw_only=True, tag_field="kind", tag="shipment"):
    """Medicine shipped to the patient's home. Cannot be cancelled once dispatched."""

    items: Annotated[tuple[MedicineItem, ...], msgspec.Meta(min_length=1, max_length=100)]
    cold_chain: bool = False
    destination: Address
    customs_documents: tuple[Line, ...] = ()
    patient: Traveller


BookingDetails = TransferDetails | InterpreterDetails | ShipmentDetails
booking_details_decoder = msgspec.json.Decoder(BookingDetails)


class BookingCreated(Event, frozen=True, kw_only=True, tag="booking_created"):
    """A booking exists and will be offered to partners."""

    booking_id: BookingId
    inquiry_id: str | None
    kind: BookingKind
    created_at: AwareDatetime


class Arrangement(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What the patient needs to meet the service, as its partner reported it: the driver, their
    phone, the vehicle and where to meet; the interpreter and when; the carrier and tracking
    number. Personal data (the driver's and interpreter's, and what ties the trip to the
    patient): sealed at rest, erased with the case, never logged."""

    driver_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    driver_phone: Phone | None = None
    vehicle: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    meeting_point: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    interpreter_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    session_at: AwareDatetime | None = None
    carrier: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    tracking_number: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class BookingStatusChanged(Event, frozen=True, kw_only=True, tag="booking_status_changed"):
    """A booking moved to another state; `version` orders changes, not arrival."""

    booking_id: BookingId
    inquiry_id: str | None
    kind: BookingKind
    from_status: BookingStatus
    to_status: BookingStatus
    version: Annotated[int, msgspec.Meta(ge=1)]
    partner_id: PartnerId | None = None
    partner_name: str | None = None
    # The partner's last status update, e.g. "driver_assigned" or "delivered".
    progress: str | None = None
    changed_at: AwareDatetime
    # What the patient needs, as the partner has reported it so far (None before it reports any):
    # the event is then sealed in logistics' outbox and deleted from the stream on erasure.
    arrangement: Arrangement | None = None


class OperatorAlert(Event, frozen=True, kw_only=True, tag="operator_alert"):
    """Something an operator must act on, e.g. no partner left for a booking, or a partner's
    data breach (the incident's id and the pseudonymous ids of the cases it touches)."""

    alert: Literal["booking_unassigned", "partner_incident"]
    booking_id: BookingId | None = None
    inquiry_id: str | None = None
    detail: str
    raised_at: AwareDatetime
    partner_id: PartnerId | None = None
    incident_id: str | None = None
    affected_inquiry_ids: tuple[str, ...] = ()
    affected_booking_ids: tuple[BookingId, ...] = ()


class PartnerSupportRequested(Event, frozen=True, kw_only=True, tag="partner_support_requested"):
    """A partner holding a booking asked the support desk for help (its `support_request`
    reply), forwarded with the booking's case so support can link the two. The message is the
    partner's words, read by support agents only; sealed in logistics' outbox and erased from
    the stream with the case."""

    booking_id: BookingId
    inquiry_id: str | None = None
    booking_kind: BookingKind
    partner_id: PartnerId
    topic: str
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    requested_at: AwareDatetime


class InterpreterRequestAnswered(
    Event, frozen=True, kw_only=True, tag="interpreter_request_answered"
):
    """Logistics' answer to the support desk's request for an interpreter by phone
    (`support.interpreter.requested.v1`), for the case's timeline:

    - `booked`: an interpreter partner took the phone session (`partner_id`, `partner_name`,
      `session_at`);
    - `unavailable`: no suitable interpreter partner is left (operators are alerted as for any
      unassigned booking; a later dispatch that succeeds answers `booked`);
    - `refused`: nothing was booked, and `reason` says why: the case has no inquiry (a partner's
      case), or the patient has not consented to sharing with partners.

    Ids, a partner's company name and a time only: no personal data."""

    case_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f-]{36}$")]
    inquiry_id: str | None = None
    outcome: Literal["booked", "unavailable", "refused"]
    reason: Literal["no_inquiry", "no_consent"] | None = None
    booking_id: BookingId | None = None
    partner_id: PartnerId | None = None
    partner_name: str | None = None
    session_at: AwareDatetime | None = None
    answered_at: AwareDatetime


LogisticsEvent = (
    BookingCreated
    | BookingStatusChanged
    | OperatorAlert
    | PartnerSupportRequested
    | InterpreterRequestAnswered
)
logistics_event_decoder = msgspec.json.Decoder(LogisticsEvent)
