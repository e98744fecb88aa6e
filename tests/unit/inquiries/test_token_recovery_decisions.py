"""Token recovery's decisions, pure: the limit, the comparison of addresses, what a match
announces (never the token), how long the new token waits for its email."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec

from contracts.inquiries import AccessTokenReissued
from services.inquiries.domain import recovery
from services.inquiries.domain.model import PersonalData

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def personal(patient: dict[str, object]) -> PersonalData:
    return PersonalData(patient=patient, description="", diagnoses=(), preferred_dates=None)


ON_FILE = personal({"email": "olena@example.org"})


def test_three_requests_are_heard_in_the_window_and_the_fourth_is_not() -> None:
    assert [recovery.recovery_heard(n) for n in range(5)] == [True, True, True, False, False]


def test_the_address_on_file_matches_whatever_its_case_and_surrounding_spaces() -> None:
    assert recovery.email_matches(" Olena@Example.ORG ", ON_FILE)
    assert not recovery.email_matches("olena@example.org.evil", ON_FILE)
    assert not recovery.email_matches("not an address", ON_FILE)


def test_an_erased_case_or_one_without_an_address_matches_nothing() -> None:
    assert not recovery.email_matches("olena@example.org", None)
    assert not recovery.email_matches("", personal({}))


def test_a_match_announces_the_reissue_by_id_without_the_token() -> None:
    inquiry_id, reissue_id = uuid.uuid4(), uuid.uuid4()

    change = recovery.reissue(inquiry_id, reissue_id, NOW)

    [announcement] = change.announcements
    assert announcement.subject == "inquiries.inquiry.access_token_reissued.v1"
    assert announcement.event == AccessTokenReissued(
        inquiry_id=str(inquiry_id), reissue_id=str(reissue_id), reissued_at=NOW
    )
    assert b"cbp_" not in msgspec.json.encode(announcement.event)
    assert [e.kind for e in change.timeline] == ["access_token_reissued"]
    assert change.timeline[0].detail == {}


def test_the_new_token_waits_a_day_for_its_email() -> None:
    assert recovery.token_mail_fresh(NOW - timedelta(hours=23), NOW)
    assert not recovery.token_mail_fresh(NOW - timedelta(hours=25), NOW)
    assert not recovery.token_mail_fresh(None, NOW)
