"""The editor's form into the content API's document, the Markdown preview, the revision diff
as words, the list's pages and the medical sign-off's fields."""

from __future__ import annotations

from typing import Any

import pytest

from services.console.domain import drafts
from services.console.domain.forms import FormProblem


def _draft() -> dict[str, Any]:
    return {
        "slug": "heart-failure",
        "specialty": "cardiology",
        "translations": {
            "en": {
                "title": "Heart failure",
                "summary": "The heart pumps too little.",
                "sections": [{"key": "overview", "heading": "Overview", "body": "Old text."}],
                "symptoms": ["Breathlessness"],
            },
            "de": {"title": "Herzschwäche", "summary": "Das Herz pumpt zu wenig."},
        },
    }


def _form(**changes: str) -> dict[str, str]:
    return {
        "title": "Heart failure",
        "summary": "The heart pumps too little.",
        "section_0_heading": "Overview",
        "section_0_body": "Old text.",
        **changes,
    }


def test_the_form_changes_only_its_own_fields_in_its_own_language() -> None:
    draft = _draft()
    body = drafts.edited(draft, "en", _form(title=" New title ", section_0_body="**Bold**\r\n"))
    assert body["translations"]["en"]["title"] == "New title"
    assert body["translations"]["en"]["sections"][0]["body"] == "**Bold**"
    assert body["translations"]["en"]["symptoms"] == ["Breathlessness"]
    assert body["translations"]["de"] == draft["translations"]["de"]
    # The draft the page read is left as it was.
    assert draft["translations"]["en"]["title"] == "Heart failure"


@pytest.mark.parametrize(
    ("field", "message"),
    [("title", "title must not be empty"), ("section_0_body", "section 0 body must not be empty")],
)
def test_an_empty_field_is_refused_by_name(field: str, message: str) -> None:
    with pytest.raises(FormProblem, match=message):
        drafts.edited(_draft(), "en", _form(**{field: "  \n "}))


def test_a_language_the_document_is_not_written_in_is_refused() -> None:
    with pytest.raises(FormProblem, match="no text in 'fr'"):
        drafts.edited(_draft(), "fr", _form())


def test_the_preview_renders_markdown_as_content_does_and_drops_raw_html() -> None:
    (section,) = drafts.preview(
        {"sections": [{"heading": "H", "body": "**a** <script>x</script>"}]}
    )
    assert "<strong>a</strong>" in section["html"]
    assert "<script>" not in section["html"]


def test_html_of_another_service_is_cleaned_before_it_is_embedded() -> None:
    (section,) = drafts.served_sections(
        {"sections": [{"heading": "H", "body_html": '<p onclick="x()">a</p><script>x</script>'}]}
    )
    assert section["html"] == "<p>a</p>"


def test_the_word_diff_keeps_unchanged_words_and_names_removed_and_added_ones() -> None:
    parts = drafts.word_diff("The heart pumps too little.", "The heart pumps far too little now.")
    assert [(p.op, p.text) for p in parts] == [
        ("same", "The heart pumps "),
        ("added", "far "),
        ("same", "too "),
        ("removed", "little."),
        ("added", "little now."),
    ]
    assert (
        "".join(p.text for p in parts if p.op != "removed") == "The heart pumps far too little now."
    )


def test_changes_that_are_not_text_are_shown_as_json() -> None:
    text, listed = drafts.field_diffs(
        [
            {"path": "translations.en.title", "before": "A", "after": "B"},
            {"path": "tags", "before": ["a"], "after": ["a", "b"]},
        ]
    )
    assert text.parts is not None
    assert (listed.before, listed.after) == ('["a"]', '["a","b"]')


def test_the_list_is_cut_into_pages() -> None:
    rows = list(range(drafts.PAGE_SIZE + 1))
    assert drafts.page_of(rows, 1) == (rows[: drafts.PAGE_SIZE], True)
    assert drafts.page_of(rows, 2) == ([drafts.PAGE_SIZE], False)
    assert drafts.page_of(rows, 0) == drafts.page_of(rows, 1)


def test_the_form_shows_what_was_sent_over_the_draft() -> None:
    text = _draft()["translations"]["en"]
    assert drafts.form_values(text, None)["title"] == "Heart failure"
    shown = drafts.form_values(text, {"title": "", "section_0_body": "typed"})
    assert shown["title"] == ""
    assert shown["sections"][0] == {"key": "overview", "heading": "Overview", "body": "typed"}


def test_a_sign_off_needs_a_revision_and_a_date() -> None:
    assert drafts.sign_off_request({"revision": "4", "next_review_due": "2027-12-01"}) == {
        "revision": 4,
        "next_review_due": "2027-12-01",
    }
    with pytest.raises(FormProblem, match="revision"):
        drafts.sign_off_request({"revision": "four", "next_review_due": "2027-12-01"})
    with pytest.raises(FormProblem, match="next review due"):
        drafts.sign_off_request({"revision": "4", "next_review_due": "1.12.2027"})
