"""What a third-party site sends to submit an inquiry (the public contract in the issue), and
what it gets back."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from contracts.content import Slug
from contracts.inquiries import Country, InquiryStatus, RequestedService
from services.runtime.http.validation import Form

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+[1-9][0-9]{6,14}$")]
Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class Patient(Form, frozen=True, kw_only=True):
    full_name: Name
    date_of_birth: date
    sex: Literal["female", "male", "diverse", "unknown"]
    country: Country
    language: Language
    email: Email
    phone: Phone | None = None


class DateRange(Form, frozen=True, kw_only=True):
    from_: date = msgspec.field(name="from")
    to: date


class SubmissionConsent(Form, frozen=True, kw_only=True):
    """Consent to process health data for arranging treatment: required, never bundled."""

    health_data_processing: bool
    version: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class SubmitInquiry(Form, frozen=True, kw_only=True):
    patient: Patient
    condition_slug: Slug
    description: Text
    diagnoses: tuple[Annotated[str, msgspec.Meta(min_length=1, max_length=300)], ...] = ()
    preferred_country: Country = "DE"
    preferred_dates: DateRange | None = None
    services: tuple[RequestedService, ...] = ()
    consent: SubmissionConsent
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Submitted(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: InquiryStatus
    status_url: str
    # Shown once: only its hash is stored. The patient uses it to follow the inquiry.
    access_token: str


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    kind: str
    detail: dict[str, object] = {}


class PatientView(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: InquiryStatus
    condition_slug: str
    services: list[str]
    submitted_at: datetime
    updated_at: datetime
    timeline: list[TimelineEntry]
