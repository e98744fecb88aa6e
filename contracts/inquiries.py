"""Events of the inquiries service. They carry pseudonymous ids (the inquiry id) and never a
patient's name, contact or health data: the one exception is the booking details of the confirmed
and discharged events, which hold exactly what logistics needs to book each service (the
traveller's name, phone and language, flights, addresses, medicines), and nothing medical beyond
it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from contracts.content import Slug
from contracts.envelope import AwareDatetime, Event
from contracts.logistics import BookingDetails, Contract

InquiryStatus = Literal[
    "submitted",
    "in_review",
    "records_requested",
    "offer_sent",
    "accepted",
    "confirmed",
    "in_treatment",
    "discharged",
    "completed",
    "declined",
    "cancelled",
    "expired",
]
RequestedService = Literal["transfer", "interpreter", "medicine_shipment", "support"]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
InquiryId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f-]{36}$")]


class InquirySubmitted(Event, frozen=True, kw_only=True, tag="inquiry_submitted"):
    """A patient asked for treatment; what coordinators and planners may know without the file."""

    inquiry_id: InquiryId
    condition_slug: Slug
    preferred_country: Country
    services: tuple[RequestedService, ...]
    source: str
    submitted_at: AwareDatetime


class InquiryStatusChanged(Event, frozen=True, kw_only=True, tag="inquiry_status_changed"):
    """An inquiry moved from one state of its lifecycle to another."""

    inquiry_id: InquiryId
    from_status: InquiryStatus
    to_status: InquiryStatus
    # The inquiry's version after the change: consumers order changes by it, not by arrival.
    version: Annotated[int, msgspec.Meta(ge=1)]
    changed_at: AwareDatetime


ConsentPurpose = Literal[
    "health_data_processing",
    "review_by_staff",
    "forwarding_to_clinics",
    "partner_sharing",
    "marketing",
]


class ConsentBasis(Contract, frozen=True, kw_only=True):
    """A consent the patient gave, as a disclosure relies on it: its purpose, the notice
    version they were shown, and when they gave it."""

    purpose: ConsentPurpose
    notice_version: Annotated[str, msgspec.Meta(max_length=40)]
    given_at: AwareDatetime


class InquiryOfferSent(Event, frozen=True, kw_only=True, tag="inquiry_offer_sent"):
    """A treatment offer (cost estimate) went to the patient; a newer version supersedes it."""

    inquiry_id: InquiryId
    offer_version: Annotated[int, msgspec.Meta(ge=1)]
    valid_until: AwareDatetime
    sent_at: AwareDatetime


class InquiryConfirmed(Event, frozen=True, kw_only=True, tag="inquiry_confirmed"):
    """The advance (or a payer's guarantee) is in and the trip is planned: book these services.

    `bookings` holds one entry per service to book, with exactly what its partner needs."""

    inquiry_id: InquiryId
    version: Annotated[int, msgspec.Meta(ge=1)]
    bookings: tuple[BookingDetails, ...]
    confirmed_at: AwareDatetime
    # The patient's consent to partner_sharing the bookings are sent on (none without bookings).
    sharing_consent: ConsentBasis | None = None


class InquiryDischarged(Event, frozen=True, kw_only=True, tag="inquiry_discharged"):
    """The patient left the clinic: book the return transfer and the medicine shipment."""

    inquiry_id: InquiryId
    version: Annotated[int, msgspec.Meta(ge=1)]
    fit_to_fly: date
    bookings: tuple[BookingDetails, ...]
    discharged_at: AwareDatetime
    # The patient's consent to partner_sharing the bookings are sent on (none without bookings).
    sharing_consent: ConsentBasis | None = None


class BookingsReleased(Event, frozen=True, kw_only=True, tag="inquiry_bookings_released"):
    """Booking requests of a step (`confirmed` or `discharged`) that waited for the patient's
    consent to share their data with logistics partners, sent once the patient gave it. They
    are booked as if the step's own event had carried them: that event carried none."""

    inquiry_id: InquiryId
    step: Literal["confirmed", "discharged"]
    bookings: tuple[BookingDetails, ...]
    released_at: AwareDatetime
    # The patient's consent to partner_sharing that released them.
    sharing_consent: ConsentBasis | None = None


class InquiryCancelled(Event, frozen=True, kw_only=True, tag="inquiry_cancelled"):
    """The case stopped: open bookings must be cancelled and their partners told."""

    inquiry_id: InquiryId
    reason: Annotated[str, msgspec.Meta(max_length=500)]
    cancelled_at: AwareDatetime


class ConsentWithdrawn(Event, frozen=True, kw_only=True, tag="inquiry_consent_withdrawn"):
    """The patient withdrew a consent: processing for that purpose stops now."""

    inquiry_id: InquiryId
    purpose: ConsentPurpose
    withdrawn_at: AwareDatetime


class PersonalDataErased(Event, frozen=True, kw_only=True, tag="inquiry_personal_data_erased"):
    """The patient's personal data was erased; every service must wipe its copies."""

    inquiry_id: InquiryId
    erased_at: AwareDatetime


class AccessTokenReissued(Event, frozen=True, kw_only=True, tag="inquiry_access_token_reissued"):
    """The patient asked for a new access token with the email on file: the old token no longer
    opens the case, and the new one must be sent to that address. The token itself is not here
    (a stream keeps what it carries): the sender asks for it with its contact request, naming
    `reissue_id`, while it is fresh."""

    inquiry_id: InquiryId
    reissue_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f-]{36}$")]
    reissued_at: AwareDatetime


InquiryEvent = (
    InquirySubmitted
    | InquiryStatusChanged
    | InquiryOfferSent
    | InquiryConfirmed
    | InquiryDischarged
    | BookingsReleased
    | InquiryCancelled
    | ConsentWithdrawn
    | PersonalDataErased
    | AccessTokenReissued
)
inquiry_event_decoder = msgspec.json.Decoder(InquiryEvent)
