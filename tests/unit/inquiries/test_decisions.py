"""The domain decides: given a case, a command and `now`, each decision returns the case's new
state, its timeline entries and its events, or refuses. No database, no clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from contracts.inquiries import (
    BookingsReleased,
    ConsentBasis,
    ConsentPurpose,
    ConsentWithdrawn,
    InquiryCancelled,
    InquiryConfirmed,
    InquiryOfferSent,
    InquiryStatus,
    InquiryStatusChanged,
)
from services.inquiries.domain import casework, offers, privacy
from services.inquiries.domain.commands import (
    Confirmation,
    ConsentForm,
    ServicesPlan,
    TransferPlan,
    Transition,
)
from services.inquiries.domain.consent import CURRENT_VERSION, HeldBookings
from services.inquiries.domain.lifecycle import check_version
from services.inquiries.domain.model import Case, OfferClosure, PersonalData
from services.runtime.core.errors import (
    Conflict,
    IllegalTransition,
    Invalid,
    NotFound,
    PreconditionFailed,
)
from tests import inquiry_commands

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
GRANTED = {
    "health_data_processing": True,
    "review_by_staff": True,
    "forwarding_to_clinics": True,
    "partner_sharing": True,
}
# Only what a submission must carry: every other purpose is not given.
REQUIRED_ONLY = {"health_data_processing": True}
PATIENT = PersonalData(
    patient={"full_name": "Olena Kovalenko", "phone": "+380501234567", "language": "uk"},
    description="mitral valve",
    diagnoses=(),
    preferred_dates=None,
)


def case(status: InquiryStatus, version: int = 3) -> Case:
    return Case(id=uuid.UUID(int=7), status=status, version=version)


def confirmation(services: ServicesPlan) -> Confirmation:
    return inquiry_commands.confirmation(NOW, services)


def test_a_plain_step_moves_the_case_bumps_its_version_and_announces_the_change() -> None:
    change = casework.transition(
        case("submitted"), GRANTED, Transition(to="in_review"), by="Anna", now=NOW
    )

    assert change.case == case("in_review", version=4)
    assert [(e.kind, e.detail) for e in change.timeline] == [
        ("status_changed", {"from": "submitted", "to": "in_review", "by": "Anna"})
    ]
    (announced,) = change.announcements
    assert announced.event == InquiryStatusChanged(
        inquiry_id=str(case("submitted").id),
        from_status="submitted",
        to_status="in_review",
        version=4,
        changed_at=NOW,
    )


def test_a_step_the_lifecycle_does_not_allow_is_refused_naming_what_may_follow() -> None:
    with pytest.raises(IllegalTransition) as refused:
        casework.transition(
            case("submitted"), GRANTED, Transition(to="completed"), by="Anna", now=NOW
        )

    assert set(refused.value.allowed) == {"in_review", "declined", "cancelled"}


def test_no_step_is_taken_once_the_patient_withdrew_consent_to_process_health_data() -> None:
    with pytest.raises(Conflict):
        casework.transition(
            case("submitted"),
            {"health_data_processing": False},
            Transition(to="in_review"),
            by="Anna",
            now=NOW,
        )


def test_a_change_based_on_an_older_version_is_refused() -> None:
    check_version(case("in_review", version=3), 3)
    with pytest.raises(PreconditionFailed):
        check_version(case("in_review", version=3), 2)


def test_leaving_offer_sent_for_review_withdraws_the_open_offer() -> None:
    change = casework.transition(
        case("offer_sent"), GRANTED, Transition(to="in_review"), by="Anna", now=NOW
    )

    assert change.offers_closed == (OfferClosure(version=None, state="withdrawn"),)


def test_a_cancellation_is_announced_with_its_reason_and_erased_with_the_case() -> None:
    change = casework.transition(
        case("in_review"),
        GRANTED,
        Transition(to="cancelled", reason="the patient chose another clinic"),
        by="Anna",
        now=NOW,
    )

    cancelled = change.announcements[-1]
    assert cancelled.event == InquiryCancelled(
        inquiry_id=str(case("in_review").id),
        reason="the patient chose another clinic",
        cancelled_at=NOW,
    )
    assert cancelled.erasure_key == str(case("in_review").id)


def test_confirming_books_the_planned_services_and_discloses_the_traveller_to_logistics() -> None:
    change = casework.confirm(
        case("accepted"),
        GRANTED,
        confirmation(ServicesPlan(transfer=TransferPlan())),
        PATIENT,
        by="Anna",
        now=NOW,
    )

    assert change.case == case("confirmed", version=4)
    assert [(e.kind, e.detail) for e in change.timeline] == [
        ("status_changed", {"from": "accepted", "to": "confirmed", "by": "Anna"}),
        ("confirmed", {"bookings": ["transfer"]}),
    ]
    status_changed, confirmed = change.announcements
    assert isinstance(status_changed.event, InquiryStatusChanged)
    assert isinstance(confirmed.event, InquiryConfirmed)
    assert confirmed.event.version == 4
    assert confirmed.event.bookings[0].patient.full_name == "Olena Kovalenko"
    assert (confirmed.erasure_key, confirmed.disclosed_to) == (
        str(case("accepted").id),
        "logistics",
    )


def test_confirming_without_services_to_book_discloses_nothing() -> None:
    change = casework.confirm(
        case("accepted"), GRANTED, confirmation(ServicesPlan()), PATIENT, by="Anna", now=NOW
    )

    assert change.announcements[-1].disclosed_to is None


@pytest.mark.parametrize(
    "consents", [REQUIRED_ONLY, GRANTED | {"partner_sharing": False}], ids=["never", "withdrawn"]
)
def test_confirming_without_partner_sharing_holds_the_bookings_and_says_why(
    consents: dict[str, bool],
) -> None:
    change = casework.confirm(
        case("accepted"),
        consents,
        confirmation(ServicesPlan(transfer=TransferPlan())),
        PATIENT,
        by="Anna",
        now=NOW,
    )

    assert change.case == case("confirmed", version=4)
    confirmed = change.announcements[-1]
    assert isinstance(confirmed.event, InquiryConfirmed)
    assert (confirmed.event.bookings, confirmed.disclosed_to) == ((), None)
    (held,) = change.held
    assert (held.step, [b.patient.full_name for b in held.bookings]) == (
        "confirmed",
        ["Olena Kovalenko"],
    )
    blocked = change.timeline[-1]
    assert blocked.kind == "bookings_held"
    assert blocked.detail["purpose"] == "partner_sharing"
    assert "has not given consent to partner_sharing" in str(blocked.detail["reason"])


def test_confirming_with_partner_sharing_relies_on_it_for_the_disclosure() -> None:
    grant = ConsentBasis(purpose="partner_sharing", notice_version="2026-12", given_at=NOW)
    change = casework.confirm(
        case("accepted"),
        GRANTED,
        confirmation(ServicesPlan(transfer=TransferPlan())),
        PATIENT,
        by="Anna",
        now=NOW,
        sharing=grant,
    )

    assert change.held == ()
    confirmed = change.announcements[-1]
    assert confirmed.relies_on == "partner_sharing"
    assert isinstance(confirmed.event, InquiryConfirmed)
    # Carried on to logistics, whose partner offers name it.
    assert confirmed.event.sharing_consent == grant


def test_granting_partner_sharing_releases_the_held_bookings_to_logistics() -> None:
    held = casework.confirm(
        case("accepted"),
        REQUIRED_ONLY,
        confirmation(ServicesPlan(transfer=TransferPlan())),
        PATIENT,
        by="Anna",
        now=NOW,
    ).held
    stored = tuple(msgspec.structs.replace(h, id=11) for h in held)
    form = ConsentForm(purpose="partner_sharing", granted=True, version=CURRENT_VERSION)

    change = privacy.record_consent(case("confirmed"), form, held=stored, now=NOW)

    assert change.released == (11,)
    (released,) = change.announcements
    assert isinstance(released.event, BookingsReleased)
    assert released.event.step == "confirmed"
    assert released.event.bookings == held[0].bookings
    assert released.event.sharing_consent == ConsentBasis(
        purpose="partner_sharing", notice_version=CURRENT_VERSION, given_at=NOW
    )
    assert (released.disclosed_to, released.relies_on) == ("logistics", "partner_sharing")


def test_a_cancelled_case_releases_nothing_when_partner_sharing_comes_later() -> None:
    stored = (HeldBookings(id=3, step="confirmed", bookings=(), held_at=NOW),)
    form = ConsentForm(purpose="partner_sharing", granted=True, version=CURRENT_VERSION)

    change = privacy.record_consent(case("cancelled"), form, held=stored, now=NOW)

    assert (change.released, change.announcements) == ((), ())


@pytest.mark.parametrize(
    ("purpose", "version", "field"),
    [
        ("partner_sharing", "2019-01", "version"),
        ("marketing", CURRENT_VERSION, "purpose"),
    ],
)
def test_a_grant_must_name_a_published_notice_that_asks_for_the_purpose(
    purpose: ConsentPurpose, version: str, field: str
) -> None:
    form = ConsentForm(purpose=purpose, granted=True, version=version)

    with pytest.raises(Invalid) as refused:
        privacy.record_consent(case("in_review"), form, now=NOW)

    assert [p.field for p in refused.value.problems] == [field]


def test_a_withdrawal_is_taken_whatever_version_it_names() -> None:
    form = ConsentForm(purpose="partner_sharing", granted=False, version="2019-01")

    change = privacy.record_consent(case("in_review"), form, now=NOW)

    assert change.timeline[0].kind == "consent_withdrawn"


def test_review_by_staff_is_needed_to_review_a_case() -> None:
    with pytest.raises(Conflict, match="review_by_staff"):
        casework.transition(
            case("submitted"), REQUIRED_ONLY, Transition(to="in_review"), by="Anna", now=NOW
        )


def test_forwarding_to_clinics_is_needed_to_send_an_offer() -> None:
    with pytest.raises(Conflict, match="forwarding_to_clinics"):
        offers.send(
            case("in_review"),
            REQUIRED_ONLY | {"review_by_staff": True},
            inquiry_commands.offer(NOW + timedelta(days=14)),
            version=1,
            by="Anna",
            now=NOW,
        )


def test_confirming_a_case_whose_personal_data_was_erased_is_refused() -> None:
    with pytest.raises(Conflict, match="erased"):
        casework.confirm(
            case("accepted"), GRANTED, confirmation(ServicesPlan()), None, by="Anna", now=NOW
        )


def test_confirming_a_case_not_yet_accepted_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        casework.confirm(
            case("in_review"), GRANTED, confirmation(ServicesPlan()), PATIENT, by="Anna", now=NOW
        )


def test_a_new_offer_supersedes_the_open_one_and_is_announced() -> None:
    valid_until = NOW + timedelta(days=14)
    change = offers.send(
        case("in_review"),
        GRANTED,
        inquiry_commands.offer(valid_until),
        version=2,
        by="Anna",
        now=NOW,
    )

    assert change.offers_closed == (OfferClosure(version=None, state="superseded"),)
    assert change.case == case("offer_sent", version=4)
    assert [e.kind for e in change.timeline] == ["status_changed", "offer_sent"]
    assert change.announcements[-1].event == InquiryOfferSent(
        inquiry_id=str(case("in_review").id), offer_version=2, valid_until=valid_until, sent_at=NOW
    )


def test_an_offer_valid_until_now_is_refused() -> None:
    with pytest.raises(Invalid):
        offers.send(
            case("in_review"), GRANTED, inquiry_commands.offer(NOW), version=1, by="Anna", now=NOW
        )


def test_an_open_offer_past_its_validity_expires_and_its_case_with_it() -> None:
    offer = offers.Offer(version=2, state="open", valid_until=NOW - timedelta(seconds=1))

    change = offers.expire(case("offer_sent"), offer, now=NOW)

    assert change.offers_closed == (OfferClosure(version=2, state="expired"),)
    assert change.case == case("expired", version=4)
    assert [e.kind for e in change.timeline] == ["status_changed", "offer_expired"]


def test_an_offer_still_valid_at_now_does_not_expire() -> None:
    offer = offers.Offer(version=2, state="open", valid_until=NOW + timedelta(seconds=1))

    assert not offers.is_due(offer, NOW)
    with pytest.raises(Conflict):
        offers.expire(case("offer_sent"), offer, now=NOW)


def test_accepting_an_open_offer_closes_it_as_accepted_by_whoever_accepted() -> None:
    offer = offers.Offer(version=2, state="open", valid_until=NOW + timedelta(days=1))

    change = offers.accept(case("offer_sent"), GRANTED, offer, version=2, by="patient", now=NOW)

    assert change.offers_closed == (
        OfferClosure(version=2, state="accepted", accepted_by="patient"),
    )
    assert change.case == case("accepted", version=4)
    assert change.timeline[-1].detail == {"offer_version": 2, "by": "patient"}


@pytest.mark.parametrize(
    ("offer", "refusal"),
    [
        (None, NotFound),
        (offers.Offer(version=2, state="open", valid_until=NOW), Conflict),
        (offers.Offer(version=2, state="superseded", valid_until=NOW + timedelta(1)), Conflict),
    ],
)
def test_a_missing_expired_or_superseded_offer_cannot_be_accepted(
    offer: offers.Offer | None, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        offers.accept(case("offer_sent"), GRANTED, offer, version=2, by="patient", now=NOW)


def test_withdrawing_consent_to_process_health_data_cancels_an_open_case() -> None:
    form = ConsentForm(purpose="health_data_processing", granted=False, version="v1")

    change = privacy.record_consent(case("in_review"), form, now=NOW)

    assert change.case == case("cancelled", version=4)
    assert [e.kind for e in change.timeline] == ["consent_withdrawn", "status_changed"]
    assert isinstance(change.announcements[0].event, ConsentWithdrawn)
    assert isinstance(change.announcements[-1].event, InquiryCancelled)


def test_withdrawing_consent_on_a_closed_case_only_records_it() -> None:
    form = ConsentForm(purpose="health_data_processing", granted=False, version="v1")

    change = privacy.record_consent(case("completed"), form, now=NOW)

    assert change.case is None
    assert [e.kind for e in change.timeline] == ["consent_withdrawn"]


def test_only_a_closed_case_not_yet_erased_can_be_erased() -> None:
    inquiry_id = uuid.UUID(int=7)
    privacy.check_erasable(inquiry_id, "cancelled", None)
    with pytest.raises(Conflict, match="still open"):
        privacy.check_erasable(inquiry_id, "in_review", None)
    with pytest.raises(Conflict, match="already erased"):
        privacy.check_erasable(inquiry_id, "cancelled", NOW)
