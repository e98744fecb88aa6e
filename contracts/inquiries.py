"""Events of the inquiries service. They carry pseudonymous ids (the inquiry id) and never a
patient's name, contact or health data: consumers that need those get them only where their job
does (the booking details of the confirmed event, added with logistics)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from contracts.content import Slug
from contracts.envelope import AwareDatetime, Event

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


InquiryEvent = InquirySubmitted | InquiryStatusChanged
inquiry_event_decoder = msgspec.json.Decoder(InquiryEvent)
