"""A catalogue of realistic documents for benchmarks at scale: variations of the seeded
conditions, treatments and services (services/content/seed), in English and German, each with
its own slug, a title and text that mix the seed's own words, and a rare word of its own, so
searches for common words, rare words and typos have a realistic spread of hits. Created and
published through the editorial use cases, as an editor's would be."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from typing import Any

import msgspec

from services.content.domain.documents import document_decoder, kind_of
from services.content.usecases import editorial
from services.content.usecases.seeding import SEED_DIR
from services.runtime.core.db import Pool
from services.runtime.messaging.outbox import Outbox

AUTHOR = "carebridge-catalogue"
# Qualifiers that make titles of the same template differ, as real catalogues do
# ("Mitral valve insufficiency in children", "… nach Herzinfarkt").
QUALIFIERS = {
    "en": ["in children", "in older adults", "after heart attack", "in pregnancy", "acute",
           "chronic", "congenital", "recurrent", "severe", "mild", "in athletes", "secondary"],
    "de": ["bei Kindern", "im Alter", "nach Herzinfarkt", "in der Schwangerschaft", "akut",
           "chronisch", "angeboren", "wiederkehrend", "schwer", "leicht", "bei Sportlern",
           "sekundär"],
}  # fmt: skip
# Rare words: one per document, found in its text only (what a "rare word" search finds).
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "ze", "bri", "dun", "fel", "gor", "hix"]
# What the benchmark searches for (common: in most documents; typo: a misspelt title word).
COMMON = {"en": "heart", "de": "Herz"}
TYPO = {"en": "insuficiency", "de": "Herzinsufizienz"}


def rare_word(n: int) -> str:
    rng = random.Random(n)  # noqa: S311 - words for a benchmark, not secrets
    return "".join(rng.choice(SYLLABLES) for _ in range(4)) + "ose"


def documents(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` documents as editors submit them (JSON-ready dicts), varied from the seed."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible catalogue, not secrets
    templates = [msgspec.json.decode(p.read_bytes()) for p in sorted(SEED_DIR.glob("*.json"))]
    out = []
    for n in range(count):
        doc: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(rng.choice(templates)))
        doc["slug"] = f"{doc['slug']}-{n:05d}"
        # Related slugs must name published documents; the generated ones stand alone.
        for field in ("related_treatments", "related_services", "related_conditions"):
            if field in doc:
                doc[field] = []
        rare = rare_word(n)
        for locale, text in doc["translations"].items():
            language = locale.split("-")[0]
            text["title"] = f"{text['title']} {rng.choice(QUALIFIERS[language])} {n}"
            sections = text.get("sections") or []
            if sections:
                sections[-1]["body"] += f"\n\n{rare}."
            else:
                text["summary"] += f" {rare}."
        out.append(doc)
    return out


async def publish_catalogue(
    pool: Pool, outbox: Outbox, count: int, *, now: datetime, concurrency: int = 4
) -> int:
    """Create and publish `count` generated documents; returns how many were published."""
    queue = [document_decoder.decode(msgspec.json.encode(d)) for d in documents(count)]
    published = 0

    async def worker() -> None:
        nonlocal published
        while queue:
            doc = queue.pop()
            await editorial.create_document(pool, doc, author=AUTHOR, now=now)
            await editorial.publish(
                pool,
                outbox,
                kind_of(doc),
                doc.slug,
                at=None,
                expected_version=None,
                review_required=False,
                now=now,
            )
            published += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return published


async def republish(pool: Pool, outbox: Outbox, raw: dict[str, Any], *, now: datetime) -> None:
    """A new revision of a published document, published: what an editor's correction does."""
    doc = document_decoder.decode(msgspec.json.encode(raw))
    kind = kind_of(doc)
    await editorial.save_draft(
        pool, kind, doc.slug, doc, author=AUTHOR, expected_version=None, now=now
    )
    await editorial.publish(
        pool, outbox, kind, doc.slug, at=None, expected_version=None, review_required=False, now=now
    )
