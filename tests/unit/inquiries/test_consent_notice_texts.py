"""The consent notices: each published version frozen (a new text is a new version), written in
every notice language for every purpose, served per locale with the runtime's fallback, and the
rules a patient's answers to one must keep."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.inquiries.domain import consent
from services.inquiries.domain.intake import SubmissionConsent
from services.inquiries.domain.lifecycle import TERMINAL

NOW = datetime(2026, 12, 5, 9, tzinfo=UTC)
# The fingerprint of every published notice version, as published. A published text never
# changes: a failure here means a published version was edited. Publish the new text as a new
# version (services/inquiries/domain/notice_texts.py, consent.PUBLISHED) and add its
# fingerprint here; never change a line below.
PUBLISHED_FINGERPRINTS = {
    "2026-12": "d7e6f72b033c8f13406b41b657f566b51fad39a37a6eef1acd1b023d9ac64b23",
}


@pytest.mark.parametrize("version", sorted(consent.PUBLISHED))
def test_a_published_notice_version_never_changes(version: str) -> None:
    assert consent.fingerprint(version) == PUBLISHED_FINGERPRINTS[version], (
        f"consent notice {version} was published and must not change: publish a new version"
    )


def test_every_published_version_has_its_fingerprint_checked_in() -> None:
    assert set(PUBLISHED_FINGERPRINTS) == set(consent.PUBLISHED)
    assert consent.CURRENT_VERSION in consent.PUBLISHED


@pytest.mark.parametrize("version", sorted(consent.PUBLISHED))
def test_every_purpose_is_written_in_every_notice_language(version: str) -> None:
    published = consent.PUBLISHED[version]
    for language in consent.NOTICE_LANGUAGES:
        texts = published.texts[language]
        assert set(texts) == set(published.purposes), language
        for title, text, recipients, retention in texts.values():
            assert all((title, text, recipients, retention))


def test_the_issue_s_purposes_are_asked_and_only_health_data_is_required() -> None:
    current = consent.PUBLISHED[consent.CURRENT_VERSION]
    assert set(current.purposes) == {
        "health_data_processing",
        "partner_sharing",
        "forwarding_to_clinics",
        "review_by_staff",
    }
    assert current.required == {"health_data_processing"}


@pytest.mark.parametrize(
    ("asked", "served"),
    [("uk", "uk"), ("uk-UA", "uk"), ("de-AT", "de"), ("ru", "ru"), ("en-GB", "en")],
)
def test_a_notice_is_served_in_the_reader_s_language_or_falls_back(asked: str, served: str) -> None:
    shown = consent.notice(asked)

    assert (shown.version, shown.locale) == (consent.CURRENT_VERSION, served)
    assert (
        shown.purposes[0].title
        == consent.PUBLISHED[shown.version].texts[served]["health_data_processing"][0]
    )


def test_answers_name_every_problem_by_field() -> None:
    problems = consent.answer_problems(
        consent.CURRENT_VERSION, {"health_data_processing": False, "marketing": True}
    )

    assert sorted(p.field for p in problems) == [
        "consent.health_data_processing",
        "consent.marketing",
    ]
    assert [p.field for p in consent.answer_problems("2020-01", {})] == ["consent.version"]


def test_a_purpose_left_out_of_a_submission_is_not_given() -> None:
    answers = SubmissionConsent(version="2026-12", health_data_processing=True).answers()

    assert answers == {"health_data_processing": True}
    assert consent.answer_problems("2026-12", answers) == []
    assert not consent.given(answers, "partner_sharing")


def test_the_case_names_the_steps_waiting_for_a_consent() -> None:
    blocked = consent.blocked_steps("submitted", {"health_data_processing": True}, ())

    assert [(b.step, b.purpose) for b in blocked] == [("review", "review_by_staff")]
    assert consent.blocked_steps("submitted", {"review_by_staff": True}, ()) == []


def test_a_closed_case_waits_for_nothing() -> None:
    held = (consent.HeldBookings(step="confirmed", bookings=(), held_at=NOW),)

    assert consent.blocked_steps("cancelled", {}, held) == []
    assert [b.purpose for b in consent.blocked_steps("confirmed", {}, held)] == ["partner_sharing"]


def test_the_closed_states_are_the_lifecycle_s() -> None:
    assert consent._CLOSED == TERMINAL
