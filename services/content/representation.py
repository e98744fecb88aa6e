"""How a published document is served: composed for a locale with per-field fallback, as JSON or
as schema.org JSON-LD, encoded once with its strong ETag."""

from __future__ import annotations

import hashlib
from email.utils import format_datetime
from typing import Any

import msgspec

from services.content.domain.editorial import Published
from services.content.domain.locales import BASE_LOCALE, compose, fallback_chain
from services.content.publication import DISCLAIMER, PRICE_NOTE

COLLECTION = {"condition": "conditions", "treatment": "treatments", "service": "services"}
SUMMARY_FIELDS = ("title", "summary")


PUBLIC_CACHE = "public, max-age=300, stale-while-revalidate=86400"
VARY = "Accept-Language, Accept"


RawHeaders = list[tuple[bytes, bytes]]


class Encoded(msgspec.Struct, frozen=True):
    """Bytes ready to send, with their response headers built once: as (name, value) for the
    framework, and as raw ASGI header lists for the fast path, each for a 200 and a 304."""

    body: bytes
    etag: str
    raw_etag: bytes
    headers: tuple[tuple[str, str], ...]
    not_modified_headers: tuple[tuple[str, str], ...]
    content_language: str
    raw_ok: RawHeaders
    raw_not_modified: RawHeaders


def served_locale(row: Published, locale: str) -> str:
    """The first locale of the reader's chain the document is written in."""
    return next((loc for loc in fallback_chain(locale) if loc in row.locales), BASE_LOCALE)


def document(row: Published, locale: str, *, summary: bool = False) -> dict[str, Any]:
    chain = fallback_chain(locale)
    texts, served_by = compose(row.rendered["translations"], chain)
    if summary:
        texts = {k: v for k, v in texts.items() if k in SUMMARY_FIELDS}
        served_by = {k: v for k, v in served_by.items() if k in SUMMARY_FIELDS}
    language = served_locale(row, locale).split("-")[0]
    body: dict[str, Any] = {
        "kind": row.kind,
        "slug": row.slug,
        "url": f"/v1/{COLLECTION[row.kind]}/{row.slug}",
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


def json_ld(row: Published, locale: str) -> dict[str, Any]:
    """schema.org: a MedicalWebPage about a MedicalCondition, or a MedicalProcedure /
    MedicalTherapy, so third-party sites get rich results without writing it themselves."""
    doc = document(row, locale)
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
                {"@type": "MedicalTherapy", "name": slug, "url": f"/v1/treatments/{slug}"}
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
    row: Published, payload: dict[str, Any], locale: str, media_type: str = "application/json"
) -> Encoded:
    body = msgspec.json.encode(payload)
    etag = strong_etag(body)
    language = served_locale(row, locale)
    # What a 304 must repeat of the 200 (RFC 9110 section 15.4.5). It omits the representation's
    # other metadata, which the client already holds: fewer fields, and a cheaper 304.
    not_modified = (("ETag", etag), ("Cache-Control", PUBLIC_CACHE), ("Vary", VARY))
    headers = (
        *not_modified,
        ("Last-Modified", format_datetime(row.updated_at, usegmt=True)),
        ("Content-Language", language),
    )
    return Encoded(
        body=body,
        etag=etag,
        raw_etag=etag.encode(),
        headers=headers,
        not_modified_headers=not_modified,
        content_language=language,
        raw_ok=[
            *_raw(headers),
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        raw_not_modified=_raw(not_modified),
    )


def _raw(headers: tuple[tuple[str, str], ...]) -> RawHeaders:
    return [(name.lower().encode(), value.encode()) for name, value in headers]


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match requires."""
    if not if_none_match:
        return False
    if if_none_match == etag:  # what a revalidating client sends nearly always
        return True
    if if_none_match.strip() == "*":
        return True
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return etag in candidates
