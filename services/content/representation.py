"""How a published document is served: composed for a locale with per-field fallback, as JSON or
as schema.org JSON-LD, encoded once in every content coding, each with its strong ETag. Lists,
search and sync pages are encoded the same way."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import msgspec

from services.content.compression import CODINGS, COMPRESSORS, IDENTITY, MIN_SIZE
from services.content.domain.editorial import Published
from services.content.domain.locales import BASE_LOCALE, compose, fallback_chain
from services.content.publication import DISCLAIMER, PRICE_NOTE

COLLECTION = {"condition": "conditions", "treatment": "treatments", "service": "services"}
SUMMARY_FIELDS = ("title", "summary")


PUBLIC_CACHE = "public, max-age=300, stale-while-revalidate=86400"
VARY = "Accept-Language, Accept, Accept-Encoding"
# Lists and search pages: short-lived in shared caches, one representation per query.
PAGE_CACHE = "public, max-age=60"
PAGE_VARY = "Accept-Language, Accept-Encoding"
# Sync pages are a consumer's own mirror state: revalidated every time, never shared.
SYNC_CACHE = "private, no-cache"
SYNC_VARY = "Accept-Encoding"


RawHeaders = list[tuple[bytes, bytes]]
Headers = tuple[tuple[str, str], ...]
# A rough count of what an entry holds besides its bodies (header lists, the structs): it
# keeps the cache's byte bound honest for small answers.
OVERHEAD = 1024


class Variant(msgspec.Struct, frozen=True):
    """One content coding of an answer: its bytes and its own strong ETag (a gzip body is a
    different representation from the identity one), with the response headers built once:
    as (name, value) for the framework, and as raw ASGI header lists for the fast path, each
    for a 200 and a 304."""

    body: bytes
    etag: str
    headers: Headers
    not_modified_headers: Headers
    raw_ok: RawHeaders
    raw_not_modified: RawHeaders


class Encoded(msgspec.Struct, frozen=True):
    """An answer ready to send, in every content coding it was compressed in (identity always).
    `etags` holds every variant's tag: a reader revalidating with any of them holds this
    representation, whatever coding it was sent in."""

    variants: dict[str, Variant]
    etags: frozenset[str]
    raw_etags: frozenset[bytes]
    content_language: str | None
    size: int

    @property
    def body(self) -> bytes:
        return self.variants[IDENTITY].body

    def choose(self, codings: tuple[str, ...]) -> Variant | None:
        """The variant of the first coding in `codings` (best first) held here."""
        for coding in codings:
            variant = self.variants.get(coding)
            if variant is not None:
                return variant
        return None

    def fresh(self, if_none_match: str | None) -> bool:
        """Whether If-None-Match names this representation, in any of its codings."""
        if not if_none_match:
            return False
        if if_none_match in self.etags:  # what a revalidating client sends nearly always
            return True
        if if_none_match.strip() == "*":
            return True
        candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
        return not self.etags.isdisjoint(candidates)


def represent(
    body: bytes,
    *,
    media_type: str,
    cache_control: str,
    vary: str,
    content_language: str | None = None,
    last_modified: datetime | None = None,
    codings: tuple[str, ...] = CODINGS,
) -> Encoded:
    """`body` ready to send, compressed in `codings` (when it is large enough and it pays)."""
    identity_tag = strong_etag(body)
    extra: Headers = ()
    if last_modified is not None:
        extra += (("Last-Modified", format_datetime(last_modified, usegmt=True)),)
    if content_language is not None:
        extra += (("Content-Language", content_language),)
    variants = {IDENTITY: _variant(body, identity_tag, media_type, cache_control, vary, extra)}
    if len(body) >= MIN_SIZE:
        for coding in codings:
            if coding == IDENTITY:
                continue
            compressed = COMPRESSORS[coding](body)
            if len(compressed) < len(body):
                variants[coding] = _variant(
                    compressed,
                    f'{identity_tag[:-1]}-{coding}"',
                    media_type,
                    cache_control,
                    vary,
                    (*extra, ("Content-Encoding", coding)),
                )
    etags = frozenset(v.etag for v in variants.values())
    return Encoded(
        variants=variants,
        etags=etags,
        raw_etags=frozenset(e.encode() for e in etags),
        content_language=content_language,
        size=sum(len(v.body) + OVERHEAD for v in variants.values()),
    )


def _variant(
    body: bytes, etag: str, media_type: str, cache_control: str, vary: str, extra: Headers
) -> Variant:
    # What a 304 must repeat of the 200 (RFC 9110 section 15.4.5). It omits the representation's
    # other metadata, which the client already holds: fewer fields, and a cheaper 304.
    not_modified = (("ETag", etag), ("Cache-Control", cache_control), ("Vary", vary))
    headers = (*not_modified, *extra)
    return Variant(
        body=body,
        etag=etag,
        headers=headers,
        not_modified_headers=not_modified,
        raw_ok=[
            *_raw(headers),
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        raw_not_modified=_raw(not_modified),
    )


def served_locale(row: Published, locale: str) -> str:
    """The first locale of the reader's chain the document is written in."""
    return next((loc for loc in fallback_chain(locale) if loc in row.locales), BASE_LOCALE)


def api_url(kind: str, slug: str, locale: str) -> str:
    """A document's address in this API (the `url` when the caller's key names no site page)."""
    del locale
    return f"/v1/{COLLECTION[kind]}/{slug}"


# Names a document's page: (kind, slug, locale) -> URL.
UrlOf = Callable[[str, str, str], str]


def document(
    row: Published, locale: str, *, summary: bool = False, url_of: UrlOf = api_url
) -> dict[str, Any]:
    chain = fallback_chain(locale)
    texts, served_by = compose(row.rendered["translations"], chain)
    if summary:
        texts = {k: v for k, v in texts.items() if k in SUMMARY_FIELDS}
        served_by = {k: v for k, v in served_by.items() if k in SUMMARY_FIELDS}
    language = served_locale(row, locale).split("-")[0]
    body: dict[str, Any] = {
        "kind": row.kind,
        "slug": row.slug,
        "url": url_of(row.kind, row.slug, served_locale(row, locale)),
        "revision": row.revision,
        "updated_at": row.updated_at,
        "locale": served_locale(row, locale),
        "requested_locale": locale,
        "available_locales": row.locales,
        "field_locales": served_by,
    }
    if summary:
        return body | texts
    body |= row.rendered["shared"] | texts
    if row.kind != "service":
        body["disclaimer"] = DISCLAIMER[language]
    if any(k in row.rendered["shared"] for k in ("price", "price_from")):
        body["price_disclaimer"] = PRICE_NOTE[language]
    return body


def json_ld(row: Published, locale: str, url_of: UrlOf = api_url) -> dict[str, Any]:
    """schema.org: a MedicalWebPage about a MedicalCondition, or a MedicalProcedure /
    MedicalTherapy, so third-party sites get rich results without writing it themselves.
    `url_of` names the pages: the site's own, when the caller's key has a URL template."""
    doc = document(row, locale, url_of=url_of)
    shared = row.rendered["shared"]
    trust = shared.get("trust", {})
    about: dict[str, Any] = {"name": doc["title"], "description": doc["summary"]}
    if row.kind == "condition":
        about |= {
            "@type": "MedicalCondition",
            "code": [
                {"@type": "MedicalCode", "code": code, "codingSystem": "ICD-10"}
                for code in shared.get("icd10", [])
            ],
            "signOrSymptom": [
                {"@type": "MedicalSignOrSymptom", "name": s} for s in doc.get("symptoms", [])
            ],
            "riskFactor": [
                {"@type": "MedicalRiskFactor", "name": r} for r in doc.get("risk_factors", [])
            ],
            "possibleTreatment": [
                {
                    "@type": "MedicalTherapy",
                    "name": slug,
                    "url": url_of("treatment", slug, doc["locale"]),
                }
                for slug in shared.get("related_treatments", [])
            ],
        }
    elif row.kind == "treatment":
        therapy = shared.get("treatment_kind") == "medication"
        about["@type"] = "MedicalTherapy" if therapy else "MedicalProcedure"
    else:
        about["@type"] = "Service"
    page: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "inLanguage": doc["locale"],
        "name": doc["title"],
        "description": doc["summary"],
        "url": doc["url"],
        "dateModified": row.updated_at.isoformat(),
        "about": about,
    }
    if trust:
        page["lastReviewed"] = trust["last_reviewed"]
        page["reviewedBy"] = {
            "@type": "Person",
            "name": trust["medical_reviewer"]["name"],
            "jobTitle": trust["medical_reviewer"].get("qualification"),
        }
        page["author"] = {"@type": "Person", "name": trust["author"]["name"]}
        page["citation"] = [
            {
                "@type": "CreativeWork",
                "name": s["title"],
                "publisher": s["publisher"],
                "url": s["url"],
            }
            for s in trust.get("sources", [])
        ]
    return page


def encode(
    row: Published,
    payload: dict[str, Any],
    locale: str,
    media_type: str = "application/json",
    codings: tuple[str, ...] = CODINGS,
) -> Encoded:
    return represent(
        msgspec.json.encode(payload),
        media_type=media_type,
        cache_control=PUBLIC_CACHE,
        vary=VARY,
        content_language=served_locale(row, locale),
        last_modified=row.updated_at,
        codings=codings,
    )


def _raw(headers: tuple[tuple[str, str], ...]) -> RawHeaders:
    return [(name.lower().encode(), value.encode()) for name, value in headers]


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
