"""What may be published: every reason a document may not go out, found at once. Time comes in
as an argument; nothing here does I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from services.content.domain.documents import Condition, Document, ServiceOffering, Treatment
from services.content.domain.locales import BASE_LOCALE, SUPPORTED_LANGUAGES
from services.runtime.core.errors import FieldProblem

MAX_REVIEW_INTERVAL_DAYS = 3 * 365 + 1


def publish_problems(
    doc: Document, existing: Mapping[str, frozenset[str]], today: date
) -> list[FieldProblem]:
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
            problems += _trust_problems(doc.trust.last_reviewed, doc.trust.next_review_due, today)
            problems += _missing(
                "related_treatments", doc.related_treatments, existing, "treatment"
            )
            problems += _missing("related_services", doc.related_services, existing, "service")
        case Treatment():
            problems += _trust_problems(doc.trust.last_reviewed, doc.trust.next_review_due, today)
            problems += _missing(
                "related_conditions", doc.related_conditions, existing, "condition"
            )
            problems += _missing("related_services", doc.related_services, existing, "service")
            if doc.length_of_stay and doc.length_of_stay.max_days < doc.length_of_stay.min_days:
                problems.append(
                    FieldProblem(field="length_of_stay", message="max_days is below min_days")
                )
            problems += _price_problems("price", doc.price)
        case ServiceOffering():
            problems += _price_problems("price_from", doc.price_from)
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


def _trust_problems(last_reviewed: date, next_due: date, today: date) -> list[FieldProblem]:
    problems = []
    if last_reviewed > today:
        problems.append(FieldProblem(field="trust.last_reviewed", message="is in the future"))
    if next_due <= last_reviewed:
        problems.append(
            FieldProblem(field="trust.next_review_due", message="must be after last_reviewed")
        )
    elif (next_due - last_reviewed).days > MAX_REVIEW_INTERVAL_DAYS:
        problems.append(
            FieldProblem(
                field="trust.next_review_due",
                message="must be at most three years after last_reviewed",
            )
        )
    if next_due < today:
        problems.append(
            FieldProblem(field="trust.next_review_due", message="the review is overdue")
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


def _price_problems(field: str, price: Any) -> list[FieldProblem]:
    if price is not None and price.to_eur is not None and price.to_eur < price.from_eur:
        return [FieldProblem(field=field, message="to_eur is below from_eur")]
    return []
