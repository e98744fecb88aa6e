"""The partner protocol: offers Carebridge sends to a partner on `partners.{partner_id}.offers.
{kind}`, and what a partner answers on `partners.{partner_id}.replies`. This is the public
contract transport companies, interpreters and couriers code against (see asyncapi.yaml).

An offer carries only what the partner's job needs: a driver learns the traveller's name, phone
and flight, never a diagnosis."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from contracts.envelope import AwareDatetime, Event
from contracts.logistics import BookingDetails, BookingId, BookingKind, Phone

OfferId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f-]{36}$")]
Note = Annotated[str, msgspec.Meta(max_length=500)]

# Progress a partner reports on a booking it accepted, per kind.
TRANSFER_PROGRESS = ("driver_assigned", "en_route", "picked_up", "completed")
INTERPRETER_PROGRESS = ("interpreter_assigned", "session_done", "completed")
SHIPMENT_PROGRESS = ("dispatched", "in_customs", "delivered")
Progress = Literal[
    "driver_assigned",
    "en_route",
    "picked_up",
    "completed",
    "interpreter_assigned",
    "session_done",
    "dispatched",
    "in_customs",
    "delivered",
]
DeclineReason = Literal[
    "no_capacity", "not_qualified", "out_of_coverage", "too_short_notice", "other"
]


class Offer(Event, frozen=True, kw_only=True, tag="offer"):
    """A booking offered to one partner; answer before `respond_by` or it goes to the next."""

    offer_id: OfferId
    booking_id: BookingId
    kind: BookingKind
    respond_by: AwareDatetime
    details: BookingDetails


class OfferWithdrawn(Event, frozen=True, kw_only=True, tag="offer_withdrawn"):
    """An earlier offer (or the booking it led to) no longer stands: do not serve it."""

    offer_id: OfferId
    booking_id: BookingId
    reason: Note


class DataErasureRequested(Event, frozen=True, kw_only=True, tag="data_erasure_requested"):
    """The traveller of this booking had their personal data erased at Carebridge (GDPR Art.
    17): delete every copy of what the offer told you about them (name, phone, addresses,
    medicines), keeping only what your own legal duties require. Sent once for each offer you
    received, whatever you answered; it carries ids only."""

    offer_id: OfferId
    booking_id: BookingId
    erased_at: AwareDatetime


PartnerOffer = Offer | OfferWithdrawn | DataErasureRequested
partner_offer_decoder = msgspec.json.Decoder(PartnerOffer)


class OfferAccepted(Event, frozen=True, kw_only=True, tag="offer_accepted"):
    """The partner takes the offered booking; status updates follow."""

    offer_id: OfferId


class OfferDeclined(Event, frozen=True, kw_only=True, tag="offer_declined"):
    """The partner cannot take the offered booking; it goes to the next suitable partner."""

    offer_id: OfferId
    reason: DeclineReason
    note: Note | None = None


class StatusUpdate(Event, frozen=True, kw_only=True, tag="status_update"):
    """Progress of an accepted booking. Fields beyond `status` as the kind has them; the patient
    sees them (and hears of them by email): for a transfer the driver's name and phone, the
    vehicle and the meeting point (with `driver_assigned`); for an interpreter their name and
    the session's time (`interpreter_assigned`); for a shipment the carrier and tracking number
    (`dispatched`). A field left out keeps what an earlier update reported."""

    booking_id: BookingId
    status: Progress
    note: Note | None = None
    driver_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    vehicle: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    interpreter_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    carrier: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    tracking_number: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    at: AwareDatetime | None = None
    driver_phone: Phone | None = None
    meeting_point: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    session_at: AwareDatetime | None = None


IncidentCategory = Literal[
    "unauthorised_access", "lost_device", "misdirected_message", "malware", "data_loss", "other"
]


class IncidentReported(Event, frozen=True, kw_only=True, tag="incident_reported"):
    """A personal-data breach (GDPR Art. 33) at the partner touching data Carebridge sent it.
    Report it as soon as it is detected, even before the facts are complete; the controller has
    72 hours to notify the authority. Name the affected bookings or offers by id, or set
    `all_data` when everything you hold from Carebridge may be affected. Ids only: never the
    traveller's name or other personal data in `description`."""

    category: IncidentCategory
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    detected_at: AwareDatetime
    occurred_at: AwareDatetime | None = None
    booking_ids: Annotated[tuple[BookingId, ...], msgspec.Meta(max_length=1000)] = ()
    offer_ids: Annotated[tuple[OfferId, ...], msgspec.Meta(max_length=1000)] = ()
    all_data: bool = False


SupportTopic = Literal[
    "patient_not_at_meeting_point", "address_wrong", "patient_unwell", "schedule_change", "other"
]


class SupportRequest(Event, frozen=True, kw_only=True, tag="support_request"):
    """The partner needs Carebridge's support desk about a booking it holds ("patient not at the
    meeting point", "clinic address wrong"): a support case linked to the booking is opened and
    answered within the desk's response targets. `message` is read by support agents only; a
    request naming a booking the partner was never offered changes nothing."""

    booking_id: BookingId
    topic: SupportTopic = "other"
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


PartnerReply = OfferAccepted | OfferDeclined | StatusUpdate | IncidentReported | SupportRequest
partner_reply_decoder = msgspec.json.Decoder(PartnerReply)
