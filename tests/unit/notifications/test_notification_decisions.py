"""The notifications domain: which message a fact brings, for whom, when, in which language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from contracts.inquiries import (
    AccessTokenReissued,
    ConsentWithdrawn,
    InquiryOfferSent,
    InquiryStatusChanged,
    InquirySubmitted,
    PersonalDataErased,
)
from contracts.logistics import Arrangement, BookingStatusChanged, OperatorAlert
from contracts.support import CaseEscalated, CaseReplied, InterpreterRequested
from services.notifications.domain import decisions
from services.notifications.domain.model import Pending, Recipient

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CASE = str(uuid.uuid4())


def test_a_submitted_inquiry_brings_the_patient_one_message_now_naming_no_condition() -> None:
    event = InquirySubmitted(
        inquiry_id=CASE,
        condition_slug="mitral-valve-insufficiency",
        preferred_country="DE",
        services=(),
        source="site",
        submitted_at=NOW,
    )
    [planned] = decisions.decide_inquiry_event(event, NOW).planned
    assert (planned.kind, planned.audience, planned.inquiry_id) == (
        "inquiry_received",
        "patient",
        CASE,
    )
    assert planned.send_after == NOW
    assert "mitral" not in str(planned.params)


def test_an_offer_brings_a_message_now_and_a_reminder_48_hours_before_it_expires() -> None:
    valid_until = NOW + timedelta(days=10)
    event = InquiryOfferSent(inquiry_id=CASE, offer_version=2, valid_until=valid_until, sent_at=NOW)
    decision = decisions.decide_inquiry_event(event, NOW)
    sent, reminder = decision.planned
    assert (sent.kind, sent.send_after) == ("offer_sent", NOW)
    assert (reminder.kind, reminder.send_after) == (
        "offer_expiring",
        valid_until - timedelta(hours=48),
    )
    # A newer offer replaces the reminder of the one before it.
    assert decision.cancel_keys == (reminder.key,)


def test_an_offer_valid_for_less_than_48_hours_brings_no_reminder() -> None:
    event = InquiryOfferSent(
        inquiry_id=CASE, offer_version=1, valid_until=NOW + timedelta(hours=30), sent_at=NOW
    )
    assert [p.kind for p in decisions.decide_inquiry_event(event, NOW).planned] == ["offer_sent"]


@pytest.mark.parametrize("to_status", ["accepted", "declined", "cancelled", "expired"])
def test_a_settled_offer_cancels_its_reminder(to_status: str) -> None:
    event = InquiryStatusChanged(
        inquiry_id=CASE,
        from_status="offer_sent",
        to_status=to_status,  # type: ignore[arg-type]
        version=3,
        changed_at=NOW,
    )
    decision = decisions.decide_inquiry_event(event, NOW)
    assert decision.cancel_keys == (decisions.offer_reminder_key(CASE),)
    assert decision.planned == ()


def test_records_requested_tells_the_patient() -> None:
    event = InquiryStatusChanged(
        inquiry_id=CASE,
        from_status="in_review",
        to_status="records_requested",
        version=2,
        changed_at=NOW,
    )
    [planned] = decisions.decide_inquiry_event(event, NOW).planned
    assert planned.kind == "records_requested"


def test_erasure_and_a_withdrawn_consent_stop_the_cases_pending_messages() -> None:
    erased = decisions.decide_inquiry_event(PersonalDataErased(inquiry_id=CASE, erased_at=NOW), NOW)
    assert (erased.cancel_case, erased.erase_case) == (CASE, True)
    withdrawn = decisions.decide_inquiry_event(
        ConsentWithdrawn(inquiry_id=CASE, purpose="health_data_processing", withdrawn_at=NOW), NOW
    )
    assert withdrawn.cancel_case == CASE
    marketing = decisions.decide_inquiry_event(
        ConsentWithdrawn(inquiry_id=CASE, purpose="marketing", withdrawn_at=NOW), NOW
    )
    assert marketing.cancel_case is None


def test_a_confirmed_booking_tells_the_patient_its_partner() -> None:
    event = BookingStatusChanged(
        booking_id=str(uuid.uuid4()),
        inquiry_id=CASE,
        kind="transfer",
        from_status="offered",
        to_status="confirmed",
        version=3,
        partner_id="rhein-shuttle",
        partner_name="Rhein Shuttle GmbH",
        changed_at=NOW,
    )
    [planned] = decisions.decide_logistics_event(event, NOW).planned
    assert planned.kind == "booking_confirmed"
    assert planned.params == {"booking_kind": "transfer", "partner_name": "Rhein Shuttle GmbH"}


def test_a_partner_incident_tells_on_call_the_72_hour_deadline() -> None:
    alert = OperatorAlert(
        alert="partner_incident",
        detail="breach",
        raised_at=NOW,
        partner_id="rhein-shuttle",
        incident_id=str(uuid.uuid4()),
        affected_inquiry_ids=(CASE,),
    )
    [planned] = decisions.decide_logistics_event(alert, NOW).planned
    assert (planned.kind, planned.audience) == ("partner_incident", "staff")
    assert planned.params["report_by"] == (NOW + timedelta(hours=72)).isoformat()
    assert planned.params["affected_cases"] == 1


@pytest.mark.parametrize(
    ("preferred", "chosen"), [("uk", "uk"), ("ar", "ar"), ("pl", "en"), (None, "en")]
)
def test_the_language_falls_back_to_english(preferred: str | None, chosen: str) -> None:
    assert decisions.language_for(preferred) == chosen


def test_a_failed_alert_does_not_alert_about_itself() -> None:
    message = Pending(
        id=str(uuid.uuid4()),
        kind="notification_failed",
        audience="staff",
        inquiry_id=None,
        booking_id=None,
        params={},
        attempts=1,
    )
    assert decisions.failure_alert(message, "smtp 550", NOW) is None
    patient = msgspec_replace(message, kind="offer_sent", audience="patient")
    alert = decisions.failure_alert(patient, "smtp 550", NOW)
    assert alert is not None
    assert alert.kind == "notification_failed"


def test_no_agreed_channel_composes_nothing() -> None:
    message = Pending(
        id=str(uuid.uuid4()),
        kind="offer_sent",
        audience="patient",
        inquiry_id=CASE,
        booking_id=None,
        params={},
        attempts=1,
    )
    assert decisions.compose(message, Recipient(address="a@b.c", language="de", channels=())) == ()
    [composed] = decisions.compose(message, Recipient(address="a@b.c", language="pl"))
    assert composed.language == "en"


def test_each_agreed_channel_gets_the_message_once_and_the_token_only_by_email() -> None:
    message = Pending(
        id=str(uuid.uuid4()),
        kind="offer_sent",
        audience="patient",
        inquiry_id=CASE,
        booking_id=None,
        params={},
        attempts=2,
    )
    both = Recipient(
        address="a@b.c", phone="+380501234567", language="uk", channels=("email", "sms")
    )
    assert [(c.channel, c.to) for c in decisions.compose(message, both)] == [
        ("email", "a@b.c"),
        ("sms", "+380501234567"),
    ]
    # A retry after the SMS provider failed sends the SMS only.
    retried = msgspec.structs.replace(message, delivered=("email",))
    assert [c.channel for c in decisions.compose(retried, both)] == ["sms"]
    token = msgspec.structs.replace(message, kind="access_token_reissued")
    assert [c.channel for c in decisions.compose(token, both)] == ["email"]
    no_phone = msgspec.structs.replace(both, phone=None)
    assert [c.channel for c in decisions.compose(message, no_phone)] == ["email"]


def test_retries_back_off_exponentially_to_a_cap() -> None:
    delays = [decisions.retry_delay(n, base=30, cap=600).total_seconds() for n in range(1, 7)]
    assert delays == [30, 60, 120, 240, 480, 600]


def msgspec_replace(message: Pending, **changes: object) -> Pending:
    import msgspec  # noqa: PLC0415

    return msgspec.structs.replace(message, **changes)


def test_a_reissued_token_brings_one_message_naming_the_reissue_not_the_token() -> None:
    reissue = str(uuid.uuid4())
    event = AccessTokenReissued(inquiry_id=CASE, reissue_id=reissue, reissued_at=NOW)

    decision = decisions.decide_inquiry_event(event, NOW)

    [planned] = decision.planned
    assert (planned.kind, planned.audience, planned.params) == (
        "access_token_reissued",
        "patient",
        {"reissue_id": reissue},
    )
    # A newer reissue replaces the pending message of the one before.
    assert decision.cancel_keys == (planned.key,)
    message = Pending(
        id=str(uuid.uuid4()),
        kind=planned.kind,
        audience="patient",
        inquiry_id=CASE,
        booking_id=None,
        params=planned.params,
        attempts=1,
    )
    assert decisions.token_reissue_of(message) == reissue
    [composed] = decisions.compose(
        message, Recipient(address="a@b.c", language="uk", access_token="cbp_new")
    )
    assert composed.params["access_token"] == "cbp_new"


@pytest.mark.parametrize(
    ("kind", "progress", "arrangement", "message"),
    [
        ("transfer", "driver_assigned", Arrangement(driver_name="Jan"), "transfer_arranged"),
        (
            "interpreter",
            "interpreter_assigned",
            Arrangement(interpreter_name="Oksana"),
            "interpreter_arranged",
        ),
        ("shipment", "dispatched", Arrangement(tracking_number="CB1"), "shipment_dispatched"),
    ],
)
def test_the_step_that_reports_the_details_tells_the_patient_them_sealed(
    kind: str, progress: str, arrangement: Arrangement, message: str
) -> None:
    event = BookingStatusChanged(
        booking_id=str(uuid.uuid4()),
        inquiry_id=CASE,
        kind=kind,  # type: ignore[arg-type]
        from_status="confirmed",
        to_status="in_progress",
        version=4,
        partner_id="p",
        partner_name="Partner GmbH",
        progress=progress,
        changed_at=NOW,
        arrangement=arrangement,
    )
    [planned] = decisions.decide_logistics_event(event, NOW).planned
    assert planned.kind == message
    # The details go sealed (Planned.details), never into the plain params.
    assert planned.details == decisions.booking_details(arrangement)
    assert set(planned.params) == {"booking_kind", "partner_name"}


def test_a_later_step_with_the_same_details_brings_no_second_message() -> None:
    event = BookingStatusChanged(
        booking_id=str(uuid.uuid4()),
        inquiry_id=CASE,
        kind="transfer",
        from_status="in_progress",
        to_status="in_progress",
        version=5,
        progress="picked_up",
        changed_at=NOW,
        arrangement=Arrangement(driver_name="Jan"),
    )
    assert decisions.decide_logistics_event(event, NOW).planned == ()


def test_an_escalated_support_case_mails_the_person_it_now_waits_on_ids_only() -> None:
    case_id = str(uuid.uuid4())
    decided = decisions.decide_support_event(
        CaseEscalated(
            case_id=case_id,
            category="transfer",
            priority="urgent",
            language="uk",
            level="agent",
            to_person="Ivan Agent",
            to_email="ivan@carebridge.example",
            missed_deadline=NOW,
            acknowledge_by=NOW + timedelta(minutes=15),
            escalated_at=NOW,
        ),
        NOW,
    )
    [planned] = decided.planned
    assert (planned.kind, planned.audience) == ("support_case_escalated", "staff")
    assert planned.params[decisions.STAFF_EMAIL_PARAM] == "ivan@carebridge.example"
    assert planned.params["case_id"] == case_id
    # An interpreter asked for is logistics' to act on, not a message.
    asked = InterpreterRequested(case_id=case_id, language="ar", requested_at=NOW)
    assert decisions.decide_support_event(asked, NOW).planned == ()


def test_an_agents_reply_tells_the_patient_in_the_cases_language_on_every_agreed_channel() -> None:
    case_id = str(uuid.uuid4())
    replied = CaseReplied(case_id=case_id, inquiry_id=CASE, language="ru")
    [planned] = decisions.decide_support_event(replied, NOW).planned
    assert (planned.kind, planned.audience, planned.inquiry_id, planned.send_after) == (
        "support_replied",
        "patient",
        CASE,
        NOW,
    )
    assert planned.params == {"case_id": case_id, decisions.CASE_LANGUAGE_PARAM: "ru"}
    message = Pending(
        id=str(uuid.uuid4()),
        kind=planned.kind,
        audience=planned.audience,
        inquiry_id=CASE,
        booking_id=None,
        params=planned.params,
        attempts=0,
    )
    both = Recipient(
        address="a@b.c", phone="+380501234567", language="uk", channels=("email", "sms")
    )
    composed = decisions.compose(message, both)
    assert [(c.channel, c.language) for c in composed] == [("email", "ru"), ("sms", "ru")]
    # A case in a language no template speaks: the patient's own.
    other = msgspec.structs.replace(
        message, params={"case_id": case_id, decisions.CASE_LANGUAGE_PARAM: "pl"}
    )
    assert decisions.compose(other, both)[0].language == "uk"
