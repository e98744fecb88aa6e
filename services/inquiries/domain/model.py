"""What every capability of a case shares: its state as decisions see it, the change a decision
returns, the timeline, and the patient's personal data as it is sealed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

from contracts.envelope import Event
from contracts.inquiries import ConsentPurpose, InquiryStatus
from services.inquiries.domain.consent import HeldBookings

PATIENT = "patient"
OfferState = Literal["open", "superseded", "accepted", "expired", "withdrawn"]


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    kind: str
    detail: dict[str, object] = {}


class PersonalData(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about the patient and their health: stored only encrypted."""

    patient: dict[str, object]
    description: str
    diagnoses: tuple[str, ...]
    preferred_dates: dict[str, object] | None


def aad(inquiry_id: uuid.UUID, field: str) -> bytes:
    """Associated data binding a ciphertext to its case and field (and row, inside `field`)."""
    return f"inquiry:{inquiry_id}:{field}".encode()


class Case(msgspec.Struct, frozen=True, kw_only=True):
    """The part of a case its decisions read and change. Every change bumps `version`, which
    If-Match compares against."""

    id: uuid.UUID
    status: InquiryStatus
    version: int
    coordinator: str | None = None


class Announcement(msgspec.Struct, frozen=True, kw_only=True):
    """An event to publish through the outbox once the change is saved."""

    subject: str
    event: Event
    # Set when the event may name the patient: erasing the case deletes it from the stream.
    erasure_key: str | None = None
    # Set when the event carries the traveller's data to another service: the disclosure log
    # records it under the event's id.
    disclosed_to: str | None = None
    # The consent the disclosure relies on: the log names the record of it (notice version,
    # when given).
    relies_on: ConsentPurpose | None = None


class OfferClosure(msgspec.Struct, frozen=True, kw_only=True):
    """An offer leaving `open`: one version, or (version None) whichever one is still open."""

    version: int | None
    state: OfferState
    accepted_by: str | None = None


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """What a decision returns for the use case to save, in this order: the offers it closes,
    the case's new state (None when the case row stays as it is), the timeline, the booking
    requests held for want of consent and those released (by id), the events."""

    at: datetime
    case: Case | None = None
    offers_closed: tuple[OfferClosure, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    held: tuple[HeldBookings, ...] = ()
    released: tuple[int, ...] = ()
    announcements: tuple[Announcement, ...] = ()

    def then(self, later: Change) -> Change:
        """This change followed by `later`, saved as one."""
        return Change(
            at=self.at,
            case=later.case if later.case is not None else self.case,
            offers_closed=self.offers_closed + later.offers_closed,
            timeline=self.timeline + later.timeline,
            held=self.held + later.held,
            released=self.released + later.released,
            announcements=self.announcements + later.announcements,
        )
