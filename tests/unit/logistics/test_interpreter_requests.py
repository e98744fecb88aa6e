"""The support desk's request for an interpreter by phone, decided without I/O: a phone session
soon, offered like any interpreter booking with only what the allow-list gives, refused without
an inquiry or consent, and answered to the desk when its dispatch ends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from contracts.inquiries import ConsentBasis
from contracts.logistics import InterpreterDetails, InterpreterRequestAnswered
from contracts.partners import Offer
from contracts.support import InterpreterRequested
from services.logistics import domain
from services.logistics.domain.interpreter_requests import CLINIC_TIME, session_start

NOW = datetime(2027, 2, 1, 9, 3, 20, tzinfo=UTC)
CASE = str(uuid.uuid4())
INQUIRY = str(uuid.uuid4())
CONSENT = ConsentBasis(purpose="partner_sharing", notice_version="2026-12", given_at=NOW)


def request(**changes: Any) -> InterpreterRequested:
    base = InterpreterRequested(case_id=CASE, inquiry_id=INQUIRY, language="ar", requested_at=NOW)
    return msgspec.structs.replace(base, **changes)


def interpreter(partner_id: str, languages: tuple[str, ...] = ("ar", "de")) -> domain.Partner:
    return domain.Partner(
        id=partner_id,
        name=f"{partner_id} Dolmetscher",
        kinds=("interpreter",),
        coverage=domain.Coverage(),
        languages=languages,
        capabilities=(),
        priority=10,
        active=True,
    )


def booked(*partners: domain.Partner, consent: ConsentBasis | None = CONSENT) -> Any:
    return domain.book_for_case(
        request(),
        consent=consent,
        booking_id=uuid.uuid4(),
        offering=domain.Offering(
            partners=partners, timeout=timedelta(minutes=5), offer_id=uuid.uuid4()
        ),
        now=NOW,
    )


def answers(change: domain.Change) -> list[InterpreterRequestAnswered]:
    return [m.event for m in change.messages if isinstance(m.event, InterpreterRequestAnswered)]


def test_the_session_starts_on_the_next_quarter_hour_at_least_ten_minutes_ahead() -> None:
    start = session_start(NOW)
    assert start == datetime(2027, 2, 1, 10, 15, tzinfo=CLINIC_TIME)  # 09:13:20 UTC -> 10:15
    assert session_start(datetime(2027, 2, 1, 9, 5, tzinfo=UTC)) == datetime(
        2027, 2, 1, 10, 15, tzinfo=CLINIC_TIME
    )


def test_a_request_books_a_phone_session_offered_with_only_the_allowed_fields() -> None:
    change = booked(interpreter("lingua"))
    assert isinstance(change, domain.Change)
    assert change.booking.support_case_id == CASE
    assert change.booking.inquiry_id == INQUIRY
    details = change.booking.details
    assert isinstance(details, InterpreterDetails)
    assert (details.language_from, details.language_to) == ("ar", "de")
    (offer,) = [m.event for m in change.messages if isinstance(m.event, Offer)]
    sent = offer.details
    assert isinstance(sent, InterpreterDetails)
    assert sent.patient.full_name == "Carebridge support desk"
    assert sent.patient.language is None
    assert sent.patient.phone is None
    assert sent.sessions[0].place.startswith("By phone")
    assert answers(change) == []  # nothing to tell the desk until a partner answers


def test_without_an_inquiry_or_consent_nothing_is_booked_and_the_refusal_says_why() -> None:
    no_inquiry = domain.book_for_case(
        request(inquiry_id=None),
        consent=CONSENT,
        booking_id=uuid.uuid4(),
        offering=domain.Offering(
            partners=(interpreter("lingua"),), timeout=timedelta(minutes=5), offer_id=uuid.uuid4()
        ),
        now=NOW,
    )
    no_consent = booked(interpreter("lingua"), consent=None)
    other_purpose = booked(
        interpreter("lingua"),
        consent=msgspec.structs.replace(CONSENT, purpose="forwarding_to_clinics"),
    )
    for refused, reason in (
        (no_inquiry, "no_inquiry"),
        (no_consent, "no_consent"),
        (other_purpose, "no_consent"),
    ):
        assert isinstance(refused, domain.Message)
        assert isinstance(refused.event, InterpreterRequestAnswered)
        assert (refused.event.outcome, refused.event.reason) == ("refused", reason)


def test_acceptance_answers_booked_with_partner_and_session_time() -> None:
    change = booked(interpreter("lingua"))
    assert isinstance(change, domain.Change)
    assert change.opened is not None
    state = domain.BookingState(
        booking=change.booking,
        offers=(change.opened,),
        partner_names={"lingua": "Lingua Dolmetscher"},
    )
    accepted = domain.accept(state, str(change.opened.id), "lingua", now=NOW)
    (answer,) = answers(accepted)
    assert (answer.outcome, answer.partner_id, answer.partner_name) == (
        "booked",
        "lingua",
        "Lingua Dolmetscher",
    )
    assert answer.session_at == datetime(2027, 2, 1, 10, 15, tzinfo=CLINIC_TIME)
    assert answer.case_id == CASE


def test_no_interpreter_partner_answers_unavailable() -> None:
    change = booked(interpreter("polyglot", languages=("uk", "de")))
    assert isinstance(change, domain.Change)
    assert change.booking.status == "unassigned"
    (answer,) = answers(change)
    assert (answer.outcome, answer.partner_id) == ("unavailable", None)
