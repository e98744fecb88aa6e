"""Intake: what a third-party site sends to submit an inquiry (the public contract in the issue),
the rules a submission must keep, and what the site gets back."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, cast

import msgspec

from contracts.content import Slug
from contracts.inquiries import (
    ConsentPurpose,
    Country,
    InquiryStatus,
    InquirySubmitted,
    RequestedService,
)
from contracts.notifications import ContactChannel
from contracts.registry import INQUIRY_SUBMITTED
from services.inquiries.domain.consent import answer_problems
from services.inquiries.domain.model import Announcement, Change, PersonalData, TimelineEntry
from services.runtime.core.errors import FieldProblem, Invalid

# Form is msgspec alone (forbid_unknown_fields): the commands are the domain's, and a typo in
# one is a 400 wherever it comes in.
from services.runtime.http.validation import SINGLE_LINE, Form

Name = Annotated[str, SINGLE_LINE, msgspec.Meta(min_length=1, max_length=200)]
# Far more than any referral letter lists; a list without a bound took 100,000.
MAX_DIAGNOSES = 50
# The oldest date of birth taken: no one alive was born before it, so an earlier one is a typo
# (or 0001-01-01, a date picker's empty value).
EARLIEST_BIRTH = date(1900, 1, 1)
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
    # Where the patient agrees to hear from us about the case: email always works (it is
    # required); "sms" needs `phone`. Messages never carry health data on either.
    channels: Annotated[tuple[ContactChannel, ...], msgspec.Meta(min_length=1, max_length=2)] = (
        "email",
    )


class DateRange(Form, frozen=True, kw_only=True):
    from_: date = msgspec.field(name="from")
    to: date


class SubmissionConsent(Form, frozen=True, kw_only=True):
    """What the patient ticked against the consent notice `version` (GET /v1/consent-notices):
    each purpose true or false, never bundled. health_data_processing is required; a purpose
    left out counts as not given, and one the notice does not ask for is refused."""

    version: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    health_data_processing: bool | None = None
    review_by_staff: bool | None = None
    forwarding_to_clinics: bool | None = None
    partner_sharing: bool | None = None
    marketing: bool | None = None

    def answers(self) -> dict[ConsentPurpose, bool]:
        """The purposes the patient answered, and how."""
        given = {
            "health_data_processing": self.health_data_processing,
            "review_by_staff": self.review_by_staff,
            "forwarding_to_clinics": self.forwarding_to_clinics,
            "partner_sharing": self.partner_sharing,
            "marketing": self.marketing,
        }
        return {
            cast(ConsentPurpose, purpose): answer
            for purpose, answer in given.items()
            if answer is not None
        }


class SubmitInquiry(Form, frozen=True, kw_only=True):
    patient: Patient
    condition_slug: Slug
    description: Text
    diagnoses: Annotated[
        tuple[Annotated[str, msgspec.Meta(min_length=1, max_length=300)], ...],
        msgspec.Meta(max_length=MAX_DIAGNOSES),
    ] = ()
    preferred_country: Country = "DE"
    preferred_dates: DateRange | None = None
    services: Annotated[tuple[RequestedService, ...], msgspec.Meta(max_length=10)] = ()
    consent: SubmissionConsent
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Submitted(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    status: InquiryStatus
    status_url: str
    # Shown once: only its hash is stored. The patient uses it to follow the inquiry.
    access_token: str


def submission_problems(
    *,
    date_of_birth: date,
    preferred: tuple[date, date] | None,
    services: tuple[str, ...],
    condition_known: bool,
    today: date,
    channels: tuple[str, ...] = ("email",),
    phone: str | None = None,
    consent: SubmissionConsent | None = None,
) -> list[FieldProblem]:
    """Every rule a well-formed submission can still break, at once."""
    problems = []
    if consent is not None:
        problems += answer_problems(consent.version, consent.answers())
    if len(set(channels)) != len(channels):
        problems.append(FieldProblem(field="patient.channels", message="a channel is listed twice"))
    if "sms" in channels and phone is None:
        problems.append(
            FieldProblem(field="patient.channels", message="sms needs the patient's phone")
        )
    if date_of_birth >= today:
        problems.append(FieldProblem(field="patient.date_of_birth", message="must be in the past"))
    elif date_of_birth < EARLIEST_BIRTH:
        problems.append(
            FieldProblem(
                field="patient.date_of_birth", message=f"must be on or after {EARLIEST_BIRTH}"
            )
        )
    if preferred is not None:
        start, end = preferred
        if end < start:
            problems.append(FieldProblem(field="preferred_dates.to", message="is before from"))
        if start < today:
            problems.append(FieldProblem(field="preferred_dates.from", message="is in the past"))
    if len(set(services)) != len(services):
        problems.append(FieldProblem(field="services", message="a service is listed twice"))
    if not condition_known:
        problems.append(
            FieldProblem(field="condition_slug", message="no published condition has this slug")
        )
    return problems


def submit(
    request: SubmitInquiry, *, inquiry_id: uuid.UUID, condition_known: bool, now: datetime
) -> tuple[PersonalData, Change]:
    """A new case from a submission, or Invalid naming every broken rule: the personal data to
    seal, its first timeline entry and the announcement (which names no one)."""
    dates = request.preferred_dates
    problems = submission_problems(
        consent=request.consent,
        date_of_birth=request.patient.date_of_birth,
        preferred=(dates.from_, dates.to) if dates else None,
        services=request.services,
        condition_known=condition_known,
        today=now.date(),
        channels=request.patient.channels,
        phone=request.patient.phone,
    )
    if problems:
        raise Invalid(problems)
    personal = PersonalData(
        patient=msgspec.to_builtins(request.patient),
        description=request.description,
        diagnoses=request.diagnoses,
        preferred_dates=msgspec.to_builtins(dates) if dates else None,
    )
    return personal, Change(
        at=now,
        timeline=(TimelineEntry(at=now, kind="submitted"),),
        announcements=(
            Announcement(
                subject=INQUIRY_SUBMITTED.subject(),
                event=InquirySubmitted(
                    inquiry_id=str(inquiry_id),
                    condition_slug=request.condition_slug,
                    preferred_country=request.preferred_country,
                    services=request.services,
                    source=request.source,
                    submitted_at=now,
                ),
            ),
        ),
    )
