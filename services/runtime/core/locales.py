"""Which locale serves a reader, for every service that answers in several languages: a
reader's preference (`?locale=` first, then Accept-Language) among the languages a service
writes in, and the fallback from a regional locale to its language and then to the base
locale. Each service names its own languages; the rules are the same everywhere."""

from __future__ import annotations

import re

# What every text is written in first; every fallback chain ends there.
BASE_LOCALE = "en"
_LOCALE = re.compile(r"^([a-z]{2,3})(?:-([A-Z]{2}))?$")


class LocaleError(ValueError):
    """A locale the reader asked for is malformed or not one we write in."""


def parse_locale(tag: str, languages: tuple[str, ...]) -> str:
    """Normalise a BCP 47 language tag in one of `languages` (`de`, `de-AT`); refuse any
    other."""
    parts = tag.strip().replace("_", "-").split("-")
    if not 1 <= len(parts) <= 2:
        raise LocaleError(f"{tag!r} is not a language tag such as 'de' or 'de-AT'")
    normalised = parts[0].lower() + (f"-{parts[1].upper()}" if len(parts) == 2 else "")
    match = _LOCALE.match(normalised)
    if match is None:
        raise LocaleError(f"{tag!r} is not a language tag such as 'de' or 'de-AT'")
    if match.group(1) not in languages:
        raise LocaleError(f"{tag!r}: we write in {', '.join(languages)} (and their regions)")
    return normalised


def negotiate(query: str | None, accept_language: str | None, languages: tuple[str, ...]) -> str:
    """`?locale=` wins and must be valid; otherwise the best supported Accept-Language entry;
    otherwise the base locale. A bad Accept-Language is ignored, as browsers send odd ones."""
    if query is not None:
        return parse_locale(query, languages)
    for tag in _by_preference(accept_language or ""):
        try:
            return parse_locale(tag, languages)
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
