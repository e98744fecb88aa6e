"""Pure content rules: locales, fallback, publish problems, diffs, preview tokens, rendering."""

from __future__ import annotations

import msgspec
import pytest

from services.content.api.preview_tokens import PreviewError, PreviewSigner
from services.content.domain.documents import Condition, document_decoder
from services.content.domain.locales import (
    LocaleError,
    compose,
    fallback_chain,
    negotiate,
    parse_locale,
)
from services.content.domain.publishing import publish_problems
from services.content.domain.revisions import Change, diff
from services.runtime.core.markdown import to_html, to_text
from tests.content_samples import condition, treatment


@pytest.mark.parametrize(
    ("tag", "expected"), [("de", "de"), ("DE-at", "de-AT"), ("en_GB", "en-GB"), (" en ", "en")]
)
def test_locales_are_normalised(tag: str, expected: str) -> None:
    assert parse_locale(tag) == expected


@pytest.mark.parametrize("tag", ["", "fr", "de-AT-x", "d", "de-Austria", "12"])
def test_unsupported_or_malformed_locales_are_refused(tag: str) -> None:
    with pytest.raises(LocaleError):
        parse_locale(tag)


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "en"),
        (None, "de-AT,de;q=0.9,en;q=0.8", "de-AT"),
        (None, "fr;q=1, de;q=0.5", "de"),
        (None, "en;q=0.2, de;q=0.7", "de"),
        (None, "de;q=0, en", "en"),
        (None, "*", "en"),
        (None, "garbage;;q=x", "en"),
        ("de", "en", "de"),
    ],
)
def test_the_query_wins_then_the_best_accept_language(
    query: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(query, header) == expected


def test_fallback_chains_end_in_english() -> None:
    assert fallback_chain("de-AT") == ("de-AT", "de", "en")
    assert fallback_chain("de") == ("de", "en")
    assert fallback_chain("en-GB") == ("en-GB", "en")
    assert fallback_chain("en") == ("en",)


def test_each_field_falls_back_on_its_own() -> None:
    fields, served = compose(
        {"de": {"title": "Titel", "faqs": []}, "en": {"title": "Title", "faqs": ["q"]}},
        fallback_chain("de-AT"),
    )

    assert fields == {"title": "Titel", "faqs": ["q"]}
    assert served == {"title": "de", "faqs": "en"}


def test_a_complete_document_has_no_publish_problems() -> None:
    doc = document_decoder.decode(msgspec.json.encode(condition()))

    assert publish_problems(doc, {}) == []


def test_every_publish_problem_is_reported_at_once() -> None:
    raw = condition(icd10=[], related_treatments=["mitral-valve-repair"])
    raw["translations"].pop("en")
    raw["translations"]["de"]["sections"] = []
    doc = document_decoder.decode(msgspec.json.encode(raw))
    assert isinstance(doc, Condition)

    problems = publish_problems(doc, {"treatment": frozenset()})

    assert sorted(p.field for p in problems) == [
        "icd10",
        "related_treatments",
        "translations",
        "translations.de.sections",
    ]


def test_a_price_without_its_basis_is_refused_in_each_locale_that_lacks_it() -> None:
    raw = treatment()
    del raw["translations"]["de"]["price_note"]
    doc = document_decoder.decode(msgspec.json.encode(raw))

    problems = publish_problems(doc, {"condition": frozenset({"mitral-valve-insufficiency"})})

    assert [p.field for p in problems] == ["translations.de.price_note"]
    assert "what it includes" in problems[0].message


def test_a_reviewer_cannot_be_typed_into_a_document() -> None:
    raw = condition()
    raw["trust"]["medical_reviewer"] = {"name": "Someone", "qualification": "Cardiologist"}

    with pytest.raises(msgspec.ValidationError, match="medical_reviewer"):
        document_decoder.decode(msgspec.json.encode(raw))


def test_diff_names_changed_added_and_removed_paths() -> None:
    before = {"a": 1, "b": {"c": [1, 2]}, "gone": True}
    after = {"a": 1, "b": {"c": [1, 3]}, "new": "x"}

    assert diff(before, after) == [
        Change(path="b.c[1]", before=2, after=3),
        Change(path="gone", before=True, after=None),
        Change(path="new", before=None, after="x"),
    ]


def test_preview_tokens_verify_until_they_expire() -> None:
    signer = PreviewSigner(b"secret", ttl_seconds=60)
    token, expires = signer.issue("condition", "angina", 3, now=1000.0)

    grant = signer.verify(token, now=1059.0)

    assert (grant.kind, grant.slug, grant.version, expires) == ("condition", "angina", 3, 1060)
    with pytest.raises(PreviewError, match="expired"):
        signer.verify(token, now=1061.0)
    with pytest.raises(PreviewError, match="not valid"):
        PreviewSigner(b"other", 60).verify(token, now=1000.0)


def test_markdown_renders_to_sanitised_html() -> None:
    html = to_html(
        "**bold** <img src=x onerror=alert(1)> [a](javascript:alert(1)) [b](https://x.org)"
    )

    assert "<strong>bold</strong>" in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert '<a href="https://x.org" rel="noopener noreferrer nofollow">b</a>' in html
    assert to_text("## Title\n\n*x*") == "Title\nx"
