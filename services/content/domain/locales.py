"""Which locale serves a reader: the locales we write in, a reader's preference, and the
per-field fallback from a regional locale to its language and then to the base locale."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# Every document is written in the base locale first; every fallback chain ends there.
BASE_LOCALE = "en"
SUPPORTED_LANGUAGES = ("en", "de")
_LOCALE = re.compile(r"^([a-z]{2,3})(?:-([A-Z]{2}))?$")


class LocaleError(ValueError):
    """A locale the reader asked for is malformed or not one we write in."""


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
