"""What publishing stores: the document rendered once (Markdown beside sanitised HTML) and one
search entry per locale it is written in."""

from __future__ import annotations

from typing import Any

import msgspec

from services.content.domain.documents import (
    Condition,
    Document,
    ServiceOffering,
    Treatment,
    kind_of,
)
from services.runtime.core.markdown import to_html, to_text

# PostgreSQL text-search configuration per language: stemming for German, English, accents
# folded (content migration 0005).
SEARCH_CONFIG = {"en": "english_unaccent", "de": "german_unaccent"}

DISCLAIMER = {
    "en": (
        "This information explains a medical topic in general terms. It is not medical advice "
        "and does not replace an examination or a consultation with a doctor."
    ),
    "de": (
        "Diese Informationen erklären ein medizinisches Thema allgemein. Sie sind keine "
        "ärztliche Beratung und ersetzen weder eine Untersuchung noch ein Gespräch mit einer "
        "Ärztin oder einem Arzt."
    ),
}
PRICE_NOTE = {
    "en": "Prices are non-binding estimates as of the date given; the final cost follows from "
    "the examination before treatment.",
    "de": "Preise sind unverbindliche Schätzungen zum angegebenen Stand; die endgültigen Kosten "
    "ergeben sich aus der Untersuchung vor der Behandlung.",
}

SearchEntry = tuple[str, str, str, str, str, str, str]


def render(doc: Document) -> dict[str, Any]:
    """The stored form of a published document: locale-independent facts once, and per locale
    every text field with Markdown rendered to HTML."""
    # Through JSON, so a preview rendered here equals what the database hands back once published.
    plain: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(doc))
    translations = plain.pop("translations")
    shared = plain
    return {
        "shared": shared,
        "translations": {locale: _render_text(text) for locale, text in translations.items()},
    }


def _render_text(text: dict[str, Any]) -> dict[str, Any]:
    out = dict(text)
    out["sections"] = [{**s, "body_html": to_html(s["body"])} for s in text.get("sections", [])]
    out["faqs"] = [{**f, "answer_html": to_html(f["answer"])} for f in text.get("faqs", [])]
    if text.get("how_to_book"):
        out["how_to_book_html"] = to_html(text["how_to_book"])
    return out


def search_entries(doc: Document) -> list[SearchEntry]:
    entries = []
    for locale, text in doc.translations.items():
        parts: list[str] = []
        for section in getattr(text, "sections", ()):
            parts += [section.heading, to_text(section.body)]
        for faq in text.faqs:
            parts += [faq.question, to_text(faq.answer)]
        parts += list(getattr(text, "symptoms", ())) + list(getattr(text, "included", ()))
        config = SEARCH_CONFIG[locale.split("-")[0]]
        entries.append(
            (locale, kind_of(doc), doc.slug, text.title, text.summary, "\n".join(parts), config)
        )
    return entries


def facets(doc: Document) -> tuple[str | None, list[str]]:
    """(specialty, tags) for list filters."""
    match doc:
        case Condition() | Treatment():
            return doc.specialty, list(doc.tags)
        case ServiceOffering():
            return None, list(doc.tags)
