"""Consent as GDPR Art. 9(2)(a) needs it: explicit, per purpose, against a versioned notice the
patient was shown. The published notices, what a patient's answers to one must satisfy, which
purpose each processing step needs (refused unless given: silence is not consent), and which
steps of a case wait for a consent the patient has not given."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from typing import Literal

import msgspec

from contracts.inquiries import ConsentPurpose, InquiryStatus
from contracts.logistics import BookingDetails
from services.inquiries.domain.notice_texts import V2026_12, Texts
from services.runtime.core.errors import Conflict, FieldProblem, Invalid
from services.runtime.core.locales import BASE_LOCALE, fallback_chain

# The languages every notice is written in.
NOTICE_LANGUAGES = ("en", "de", "uk", "ru")


class PublishedNotice(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    published_on: date
    # In the order the notice shows them; a required one must be given to submit.
    purposes: tuple[ConsentPurpose, ...]
    required: frozenset[ConsentPurpose]
    texts: Texts


PUBLISHED: dict[str, PublishedNotice] = {
    "2026-12": PublishedNotice(
        version="2026-12",
        published_on=date(2026, 12, 5),
        purposes=(
            "health_data_processing",
            "review_by_staff",
            "forwarding_to_clinics",
            "partner_sharing",
        ),
        required=frozenset({"health_data_processing"}),
        texts=V2026_12,
    ),
}
# What a site shows a patient now.
CURRENT_VERSION = "2026-12"


class NoticePurpose(msgspec.Struct, frozen=True, kw_only=True):
    purpose: ConsentPurpose
    required: bool
    title: str
    text: str
    recipients: tuple[str, ...]
    retention: str


class ConsentNotice(msgspec.Struct, frozen=True, kw_only=True):
    """A notice as a site shows it, in one locale."""

    version: str
    locale: str
    published_on: date
    purposes: tuple[NoticePurpose, ...]


def notice(locale: str, version: str = CURRENT_VERSION) -> ConsentNotice:
    """The notice in the first locale of the reader's chain it is written in (uk-UA -> uk)."""
    published = PUBLISHED[version]
    served = next((loc for loc in fallback_chain(locale) if loc in published.texts), BASE_LOCALE)
    texts = published.texts[served]
    return ConsentNotice(
        version=version,
        locale=served,
        published_on=published.published_on,
        purposes=tuple(
            NoticePurpose(
                purpose=purpose,
                required=purpose in published.required,
                title=texts[purpose][0],
                text=texts[purpose][1],
                recipients=texts[purpose][2],
                retention=texts[purpose][3],
            )
            for purpose in published.purposes
        ),
    )


def fingerprint(version: str) -> str:
    """The SHA-256 of a published version's purposes and texts, for the test that keeps it
    frozen."""
    published = PUBLISHED[version]
    canonical = msgspec.json.encode(
        {
            "purposes": published.purposes,
            "required": sorted(published.required),
            "published_on": published.published_on,
            "texts": published.texts,
        },
        order="sorted",
    )
    return hashlib.sha256(canonical).hexdigest()


def answer_problems(version: str, answers: Mapping[ConsentPurpose, bool]) -> list[FieldProblem]:
    """What is wrong with a patient's answers (purpose -> given) to notice `version`: an
    unknown version, a purpose the notice does not ask for, a required one not given."""
    published = PUBLISHED.get(version)
    if published is None:
        return [
            FieldProblem(
                field="consent.version",
                message=f"no consent notice has version {version!r}; the current one is "
                f"{CURRENT_VERSION} (GET /v1/consent-notices)",
            )
        ]
    problems = [
        FieldProblem(
            field=f"consent.{purpose}",
            message=f"consent notice {version} does not ask for this purpose",
        )
        for purpose in answers
        if purpose not in published.purposes
    ]
    problems += [
        FieldProblem(
            field=f"consent.{purpose}",
            message=f"is required by consent notice {version}: we cannot take an inquiry "
            "without it",
        )
        for purpose in published.purposes
        if purpose in published.required and answers.get(purpose) is not True
    ]
    return problems


def check_grant(purpose: ConsentPurpose, granted: bool, version: str) -> None:
    """A grant is given against a published notice that asks for the purpose. Withdrawing
    needs no notice: it must be as easy as giving (Art. 7(3)), whatever version it names."""
    if not granted:
        return
    published = PUBLISHED.get(version)
    if published is None:
        raise Invalid.single(
            "version",
            f"no consent notice has version {version!r}; the current one is {CURRENT_VERSION}",
        )
    if purpose not in published.purposes:
        raise Invalid.single("purpose", f"consent notice {version} does not ask for {purpose}")


# --- what each processing step needs ---------------------------------------------------------

Step = Literal["review", "offer", "booking"]
# The purpose each step processes the patient's data for, and what the step is, in words.
STEP_PURPOSES: dict[Step, tuple[ConsentPurpose, str]] = {
    "review": ("review_by_staff", "review of the case's records by staff (in_review)"),
    "offer": ("forwarding_to_clinics", "forwarding the records to clinics for an offer"),
    "booking": ("partner_sharing", "booking requests to logistics partners"),
}
# The states from which a step comes next, for telling coordinators what waits.
_COMES_NEXT: dict[Step, frozenset[InquiryStatus]] = {
    "review": frozenset({"submitted", "records_requested", "expired"}),
    "offer": frozenset({"in_review"}),
    "booking": frozenset(),
}


# The lifecycle's closed states (a case in one releases nothing, see privacy.record_consent).
_CLOSED: frozenset[InquiryStatus] = frozenset({"completed", "declined", "cancelled"})


def given(consents: Mapping[str, bool], purpose: str) -> bool:
    """Only a grant is consent: a purpose never answered, declined or withdrawn is not."""
    return consents.get(purpose) is True


def refusal(step: Step) -> str:
    purpose, what = STEP_PURPOSES[step]
    return (
        f"the patient has not given consent to {purpose}, which {what} needs; the patient can "
        f"grant it with their access token (POST /v1/inquiries/{{id}}/consents)"
    )


def require(consents: Mapping[str, bool], step: Step) -> None:
    """Refuse the step unless the patient gave its purpose."""
    if not given(consents, STEP_PURPOSES[step][0]):
        raise Conflict(refusal(step))


class HeldBookings(msgspec.Struct, frozen=True, kw_only=True):
    """Booking requests of a step that wait for the patient's consent to partner sharing;
    sealed when stored (they name the traveller)."""

    step: Literal["confirmed", "discharged"]
    bookings: tuple[BookingDetails, ...]
    held_at: datetime
    id: int | None = None


class BlockedStep(msgspec.Struct, frozen=True, kw_only=True):
    """A step that waits for a consent, and why, as coordinators see it."""

    step: str
    purpose: ConsentPurpose
    reason: str
    since: datetime | None = None


def blocked_steps(
    status: InquiryStatus, consents: Mapping[str, bool], held: tuple[HeldBookings, ...]
) -> list[BlockedStep]:
    """The booking requests held back, and the next step of the case when it would be
    refused for want of consent. A closed case waits for nothing."""
    if status in _CLOSED:
        return []
    blocked = [
        BlockedStep(
            step=f"booking requests of {h.step} ({len(h.bookings)})",
            purpose="partner_sharing",
            reason=refusal("booking"),
            since=h.held_at,
        )
        for h in held
    ]
    for step, states in _COMES_NEXT.items():
        purpose = STEP_PURPOSES[step][0]
        if status in states and not given(consents, purpose):
            blocked.append(BlockedStep(step=step, purpose=purpose, reason=refusal(step)))
    return blocked
