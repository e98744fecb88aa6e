"""What coordinators and patients see of a case: the views the use cases build and the doors
send."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import msgspec

from contracts.inquiries import ConsentPurpose, InquiryStatus
from contracts.logistics import Arrangement
from services.inquiries.domain.commands import Confirmation, Discharge, Programme
from services.inquiries.domain.consent import BlockedStep
from services.inquiries.domain.model import OfferState, TimelineEntry

NON_BINDING = (
    "A non-binding estimate: the final cost follows from the examination before treatment."
)


class OfferView(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    state: OfferState
    programmes: tuple[Programme, ...]
    currency: Literal["EUR"] = "EUR"
    non_binding: bool = True
    disclaimer: str = NON_BINDING
    message: str | None = None
    valid_until: datetime
    sent_at: datetime
    accepted_by: str | None = None


class ConsentEntry(msgspec.Struct, frozen=True, kw_only=True):
    purpose: ConsentPurpose
    granted: bool
    version: str
    given_by: str
    at: datetime


class PurposeState(msgspec.Struct, frozen=True, kw_only=True):
    """Where one purpose stands: the patient's latest word on it (none: not given), against
    which notice version, and when."""

    purpose: ConsentPurpose
    given: bool
    notice_version: str | None = None
    at: datetime | None = None


class ConsentReceipt(msgspec.Struct, frozen=True, kw_only=True):
    """What the patient agreed to and when, for them to keep, and how to withdraw."""

    inquiry_id: uuid.UUID
    purposes: list[PurposeState]
    current_notice_version: str
    notice_url: str
    how_to_withdraw: str
    issued_at: datetime


class PatientView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: InquiryStatus
    condition_slug: str
    services: list[str]
    submitted_at: datetime
    updated_at: datetime
    timeline: list[TimelineEntry]


class NoteView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    author: str
    text: str
    at: datetime


class CaseSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: InquiryStatus
    version: int
    condition_slug: str
    preferred_country: str
    services: list[str]
    coordinator: str | None
    submitted_at: datetime
    updated_at: datetime


class CasePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[CaseSummary]
    # Pass as ?cursor= for the next page; null on the last one.
    next_cursor: str | None


class CaseView(msgspec.Struct, frozen=True, kw_only=True):
    """The whole case for coordinators, personal data decrypted (null once erased)."""

    id: uuid.UUID
    status: InquiryStatus
    version: int
    allowed_next: list[InquiryStatus]
    condition_slug: str
    preferred_country: str
    services: list[str]
    source: str
    coordinator: str | None
    submitted_at: datetime
    updated_at: datetime
    patient: dict[str, object] | None
    description: str | None
    diagnoses: list[str]
    preferred_dates: dict[str, object] | None
    consents: list[ConsentEntry]
    # Per purpose, whether it is given now; and the steps waiting for one that is not.
    consent: list[PurposeState]
    blocked: list[BlockedStep]
    timeline: list[TimelineEntry]
    offers: list[OfferView]
    notes: list[NoteView]
    confirmation: Confirmation | None
    discharge: Discharge | None


class BookingView(msgspec.Struct, frozen=True, kw_only=True):
    """A booking made for the trip, as the patient sees it: who serves it, how far it is, and
    what they need to meet it (the driver, vehicle and meeting point; the interpreter and when;
    the tracking number) as the partner reported it."""

    booking_id: str
    kind: str
    status: str
    partner_name: str | None
    progress: str | None
    arrangement: Arrangement | None = None


class PatientCase(PatientView, frozen=True, kw_only=True):
    """What the patient sees with their token: status, timeline, the offers to accept and the
    bookings made (confirmed ones and later)."""

    offers: list[OfferView]
    bookings: list[BookingView] = []
