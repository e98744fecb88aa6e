"""What may be published: every reason a document's text may not go out, found at once; nothing
here does I/O. Whether it needs a medical sign-off is decided in reviews.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from services.content.domain.documents import Condition, Document, ServiceOffering, Treatment
from services.content.domain.locales import BASE_LOCALE, SUPPORTED_LANGUAGES
from services.runtime.core.errors import FieldProblem


def publish_problems(doc: Document, existing: Mapping[str, frozenset[str]]) -> list[FieldProblem]:
    """Every reason `doc` may not be published, at once. `existing` maps kind -> known slugs."""
    problems: list[FieldProblem] = []
    if BASE_LOCALE not in doc.translations:
        problems.append(
            FieldProblem(
                field="translations",
                message=f"the base locale {BASE_LOCALE!r} is required: others fall back to it",
            )
        )
    for locale, text in doc.translations.items():
        if locale.split("-")[0] not in SUPPORTED_LANGUAGES:
            problems.append(
                FieldProblem(
                    field=f"translations.{locale}",
                    message=f"we do not publish in {locale!r} "
                    f"(languages: {', '.join(SUPPORTED_LANGUAGES)})",
                )
            )
        if text.seo is None:
            problems.append(
                FieldProblem(field=f"translations.{locale}.seo", message="is required to publish")
            )
    match doc:
        case Condition():
            problems += _condition_problems(doc)
            problems += _missing(
                "related_treatments", doc.related_treatments, existing, "treatment"
            )
            problems += _missing("related_services", doc.related_services, existing, "service")
        case Treatment():
            problems += _missing(
                "related_conditions", doc.related_conditions, existing, "condition"
            )
            problems += _missing("related_services", doc.related_services, existing, "service")
            if doc.length_of_stay and doc.length_of_stay.max_days < doc.length_of_stay.min_days:
                problems.append(
                    FieldProblem(field="length_of_stay", message="max_days is below min_days")
                )
            problems += _price_problems("price", doc.price)
            problems += _price_basis_problems(doc.price, doc.translations)
        case ServiceOffering():
            problems += _price_problems("price_from", doc.price_from)
            problems += _price_basis_problems(doc.price_from, doc.translations)
    return problems


def _condition_problems(doc: Condition) -> list[FieldProblem]:
    problems = []
    if not doc.icd10:
        problems.append(FieldProblem(field="icd10", message="at least one ICD-10 code is required"))
    for locale, text in doc.translations.items():
        keys = [s.key for s in text.sections]
        if "overview" not in keys:
            problems.append(
                FieldProblem(
                    field=f"translations.{locale}.sections",
                    message="an overview section is required",
                )
            )
        if len(keys) != len(set(keys)):
            problems.append(
                FieldProblem(
                    field=f"translations.{locale}.sections", message="a section key repeats"
                )
            )
    return problems


def _missing(
    field: str, slugs: Iterable[str], existing: Mapping[str, frozenset[str]], kind: str
) -> list[FieldProblem]:
    published = existing.get(kind, frozenset())
    return [
        FieldProblem(field=field, message=f"no {kind} has the slug {slug!r}")
        for slug in slugs
        if slug not in published
    ]


def _price_basis_problems(price: Any, translations: Mapping[str, Any]) -> list[FieldProblem]:
    """A price is shown only with its basis: in every locale a `price_note` that says what it
    includes (the price carries the day it was true on, `as_of`)."""
    if price is None:
        return []
    return [
        FieldProblem(
            field=f"translations.{locale}.price_note",
            message="a price needs its basis: say what it includes and what it does not",
        )
        for locale, text in translations.items()
        if not text.price_note
    ]


def _price_problems(field: str, price: Any) -> list[FieldProblem]:
    if price is not None and price.to_eur is not None and price.to_eur < price.from_eur:
        return [FieldProblem(field=field, message="to_eur is below from_eur")]
    return []
