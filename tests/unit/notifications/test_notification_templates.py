"""Every template renders in every language; none can show health data or the access token."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from services.notifications.domain.decisions import LANGUAGES
from services.notifications.domain.model import KINDS, Composed
from services.notifications.preview import write_previews
from services.notifications.rendering import Templates
from tests.inquiry_samples import SUBMISSION

STATUS_URL = "https://care.example/status?inquiry={inquiry_id}"
SUPPORT_URL = "https://care.example/support?inquiry={inquiry_id}&case={case_id}"


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates(status_url=STATUS_URL, support_url=SUPPORT_URL)


def test_every_kind_renders_in_every_language_with_its_own_text(templates: Templates) -> None:
    rendered = templates.every_template()
    assert len(rendered) == len(KINDS) * len(LANGUAGES)
    for kind, language, message in rendered:
        assert message.subject, (kind, language)
        assert "{" not in message.text, (kind, language)
        assert "{" not in message.subject, (kind, language)
        assert f'lang="{language}"' in message.html
        assert message.direction == ("rtl" if language == "ar" else "ltr")
        if language != "en":
            english = templates.render_kind(kind, "en", {}, inquiry_id=None)
            assert message.subject != english.subject, (kind, language)


def test_arabic_is_right_to_left(templates: Templates) -> None:
    rendered = templates.render_kind("offer_sent", "ar", {}, inquiry_id=str(uuid.uuid4()))
    assert 'dir="rtl"' in rendered.html


def test_an_unknown_language_falls_back_to_english(templates: Templates) -> None:
    rendered = templates.render_kind("inquiry_received", "pl", {}, inquiry_id=None)
    assert rendered.subject == "We have received your inquiry"


def test_patient_messages_link_the_status_page_and_staff_ones_do_not(templates: Templates) -> None:
    case = str(uuid.uuid4())
    patient = templates.render_kind("inquiry_received", "de", {}, inquiry_id=case)
    assert STATUS_URL.format(inquiry_id=case) in patient.text
    staff = templates.render_kind("booking_unassigned", "en", {}, inquiry_id=case)
    assert "status?inquiry" not in staff.text


def test_a_support_reply_links_the_case_on_the_support_page_and_says_nothing_of_the_reply(
    templates: Templates,
) -> None:
    case, support_case = str(uuid.uuid4()), str(uuid.uuid4())
    for language in LANGUAGES:
        rendered = templates.render_kind(
            "support_replied",
            language,
            {"case_id": support_case, "case_language": language},
            inquiry_id=case,
        )
        link = SUPPORT_URL.format(inquiry_id=case, case_id=support_case)
        assert link in rendered.text, language
        assert f'href="{link.replace("&", "&amp;")}"' in rendered.html, language
        assert link in rendered.short, language
        assert "status?inquiry" not in rendered.text, language
    arabic = templates.render_kind(
        "support_replied", "ar", {"case_id": support_case}, inquiry_id=case
    )
    assert 'dir="rtl"' in arabic.html


def test_values_are_escaped_in_html_and_cannot_break_the_subject(templates: Templates) -> None:
    rendered = templates.render_kind(
        "booking_confirmed",
        "en",
        {"booking_kind": "transfer", "partner_name": "<script>x</script>\r\nBcc: a@b.c"},
        inquiry_id=str(uuid.uuid4()),
    )
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject


def test_a_full_sample_shows_none_of_the_patients_health_or_contact_data(
    templates: Templates,
) -> None:
    """Whatever a fact carried, only the message's params reach a template; a sample as full as
    a case can make it shows nothing of the submission's health or contact data."""
    case = str(uuid.uuid4())
    secrets = (
        SUBMISSION["description"],
        *SUBMISSION["diagnoses"],
        SUBMISSION["condition_slug"],
        SUBMISSION["patient"]["email"],
        SUBMISSION["patient"]["phone"],
        SUBMISSION["patient"]["full_name"],
    )
    for kind in KINDS:
        for language in LANGUAGES:
            message = Composed(
                notification_id=str(uuid.uuid4()),
                kind=kind,
                channel="email",
                to=SUBMISSION["patient"]["email"],
                language=language,
                inquiry_id=case,
                params={"valid_until": "2026-05-01T14:00:00+00:00", "partner_name": "Rhein"},
            )
            rendered = templates.render(message)
            whole = rendered.subject + rendered.text + rendered.html
            for secret in secrets:
                assert secret not in whole, (kind, language, secret)


def test_the_preview_writes_every_template_in_every_language(tmp_path: Path) -> None:
    written = write_previews(tmp_path)
    assert len(written) == len(KINDS) * len(LANGUAGES) * 2
    assert 'dir="rtl"' in (tmp_path / "offer_expiring.ar.html").read_text("utf-8")
