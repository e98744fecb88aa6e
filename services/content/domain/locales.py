"""Which locale serves a reader: the locales we write in, a reader's preference, and the
per-field fallback from a regional locale to its language and then to the base locale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.runtime.core import locales as shared
from services.runtime.core.locales import BASE_LOCALE, LocaleError, fallback_chain

__all__ = (
    "BASE_LOCALE",
    "SUPPORTED_LANGUAGES",
    "LocaleError",
    "compose",
    "fallback_chain",
    "negotiate",
    "parse_locale",
)

# The languages content is written in; the rules of choosing among them are the runtime's.
SUPPORTED_LANGUAGES = ("en", "de")


def parse_locale(tag: str) -> str:
    """Normalise a BCP 47 language tag we can serve (`de`, `de-AT`); refuse anything else."""
    return shared.parse_locale(tag, SUPPORTED_LANGUAGES)


def negotiate(query: str | None, accept_language: str | None) -> str:
    """`?locale=` wins and must be valid; otherwise the best supported Accept-Language entry;
    otherwise the base locale."""
    return shared.negotiate(query, accept_language, SUPPORTED_LANGUAGES)


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
