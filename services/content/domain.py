"""Content rules, pure and synchronous: what may be published, which locale serves a reader, and
what changed between two revisions. Time comes in as an argument; nothing here does I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import msgspec

from services.content.documents import Condition, Document, ServiceOffering, Treatment
from services.runtime.core.errors import FieldProblem

# Every document is written in the base locale first; every fallback chain ends there.
BASE_LOCALE = "en"
SUPPORTED_LANGUAGES = ("en", "de")
MAX_REVIEW_INTERVAL_DAYS = 3 * 365 + 1
_LOCALE = re.compile(r"^([a-z]{2,3})(?:-([A-Z]{2}))?$")


class LocaleError(ValueError):
    """A locale the reader asked for is malformed or not one we write in."""


# --- publishing -----------------------------------------------------------------------------


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


# --- locales --------------------------------------------------------------------------------


def parse_locale(tag: str) -> str:
    """Normalise a BCP 47 language tag we can serve (`de`, `de-AT`); refuse anything else."""
    parts = tag.strip().replace("_", "-").split("-")
    if not 1 <= len(parts) <= 2:
        raise LocaleError(f"{tag!r} is not a language tag such as 'de' or 'de-AT'")
    normalised = parts[0].lower() + (f"-{parts[1].upper()}" if len(parts) == 2 else "")
    match = _LOCALE.match(normalised)
    if match is None:
        raise LocaleError(f"{tag!r} is not a language tag such as 'de' or 'de-AT'")
    if match.group(1) not in SUPPORTED_LANGUAGES:
        raise LocaleError(
            f"{tag!r}: content exists in {', '.join(SUPPORTED_LANGUAGES)} (and their regions)"
        )
    return normalised


def negotiate(query: str | None, accept_language: str | None) -> str:
    """`?locale=` wins and must be valid; otherwise the best supported Accept-Language entry;
    otherwise the base locale. A bad Accept-Language is ignored, as browsers send odd ones."""
    if query is not None:
        return parse_locale(query)
    for tag in _by_preference(accept_language or ""):
        try:
            return parse_locale(tag)
        except LocaleError:
            continue
    return BASE_LOCALE


def _by_preference(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        if not tag or tag == "*":
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if q > 0:
            weighted.append((-q, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def fallback_chain(locale: str) -> tuple[str, ...]:
    """de-AT -> de -> en: the region, its language, then the base locale."""
    chain = [locale]
    language = locale.split("-", maxsplit=1)[0]
    if language != locale:
        chain.append(language)
    if BASE_LOCALE not in chain:
        chain.append(BASE_LOCALE)
    return tuple(chain)


def compose(
    translations: Mapping[str, Mapping[str, Any]], chain: Sequence[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each field from the first locale in `chain` that has it. Returns the fields and, per
    field, the locale that served it: fields fall back separately."""
    fields: dict[str, Any] = {}
    served_by: dict[str, str] = {}
    for locale in chain:
        for name, value in translations.get(locale, {}).items():
            if name not in fields and value not in (None, [], ""):
                fields[name] = value
                served_by[name] = locale
    return fields, served_by


# --- revisions ------------------------------------------------------------------------------


class Change(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    before: Any = None
    after: Any = None


def diff(before: Any, after: Any, path: str = "") -> list[Change]:
    """Field-level differences between two JSON documents, with dotted paths."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in sorted(before.keys() | after.keys()):
            sub = f"{path}.{key}" if path else key
            changes += diff(before.get(key), after.get(key), sub)
        return changes
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        changes = []
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            changes += diff(b, a, f"{path}[{index}]")
        return changes
    return [] if before == after else [Change(path=path, before=before, after=after)]
