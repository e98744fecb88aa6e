"""One-word searches read their candidates from `search_top` (content migration 0007) and find
what scoring every hit finds: the same hits in the same order with the same ranks, in one
locale and across a fallback chain, while other searches score every hit as before. Real
PostgreSQL, the store called directly, few candidates so that the lists are long enough."""

from __future__ import annotations

import random
from typing import Any

import pytest

from services.content.domain.locales import fallback_chain
from services.content.publication import SEARCH_CONFIG
from services.content.store import delivery as store
from services.content.usecases import editorial
from services.runtime.core.db import Pool
from services.runtime.messaging.outbox import Outbox
from tests.content_samples import condition
from tests.usecases.content.editing import NOW, create_and_publish, publish_revision

WORDS = ["valve", "murmur", "pressure", "rhythm", "stenosis", "leak"]
GERMAN = ["Klappe", "Geräusch", "Druck", "Rhythmus", "Stenose", "Leck"]


def _document(n: int, rng: random.Random) -> dict[str, Any]:
    doc = condition(f"doc-{n:03d}")
    for locale, words in (("en", WORDS), ("de", GERMAN)):
        text = doc["translations"][locale]
        picked = rng.sample(words, 3)
        # Titles, summaries and bodies each hold some words, in varied amounts: ranks differ
        # and tie, and some documents hold a word in the body only.
        text["title"] = f"{picked[0].capitalize()} {n}"
        text["summary"] = " ".join([picked[1]] * rng.randint(1, 3)) + "."
        text["sections"][0]["body"] = " ".join([picked[2]] * rng.randint(1, 4)) + "."
    if n % 7 == 0:
        # English only: a German reader's chain falls back to it.
        del doc["translations"]["de"]
    return doc


@pytest.fixture
async def catalogue(pool: Pool, outbox: Outbox) -> None:
    rng = random.Random(22)  # noqa: S311 - a reproducible catalogue, not secrets
    for n in range(40):
        await create_and_publish(pool, outbox, _document(n, rng))


async def search(pool: Pool, query: str, locale: str, *, use_top: bool) -> list[Any]:
    async with pool.acquire() as conn:
        hits = await store.search(
            conn,
            query=query,
            locales=fallback_chain(locale),
            config=SEARCH_CONFIG[locale],
            limit=10,
            use_top=use_top,
        )
    return [(h.slug, h.locale, round(h.rank, 6), h.snippet) for h in hits]


QUERIES = [
    *((word, "en") for word in WORDS),
    *((word, "de") for word in GERMAN),
    ("valve", "de"),  # a German reader's word found in English entries
    ("valve murmur", "en"),  # two words: every hit scored, as before
    ("Klape", "de"),  # a typo, corrected, then one word
    ("absent", "en"),
]


async def test_a_one_word_search_finds_what_scoring_every_hit_finds(
    pool: Pool, catalogue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "CANDIDATES", 4)

    differ = [
        (query, locale)
        for query, locale in QUERIES
        if await search(pool, query, locale, use_top=True)
        != await search(pool, query, locale, use_top=False)
    ]

    assert differ == []
    assert await search(pool, "valve", "en", use_top=True)  # the comparisons compared hits


async def test_a_one_word_search_takes_its_candidates_from_the_lists(
    pool: Pool, catalogue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "CANDIDATES", 4)
    # A list entry claiming the best score puts its document among the candidates, where
    # scoring every hit would not.
    await pool.execute(
        """UPDATE search_top SET quick = 100
           WHERE term = '''valv''' AND locale = 'en'
             AND slug = (SELECT min(slug) FROM search_top WHERE term = '''valv''')"""
    )
    claimed = await pool.fetchval("SELECT slug FROM search_top WHERE quick = 100")

    listed = await search(pool, "valve", "en", use_top=True)
    scored = await search(pool, "valve", "en", use_top=False)

    assert listed[0][0] == claimed
    assert listed != scored


async def test_the_lists_follow_each_publish_and_unpublish(pool: Pool, outbox: Outbox) -> None:
    doc = condition("only-one")
    doc["translations"]["en"]["title"] = "Tricuspid valve"
    await create_and_publish(pool, outbox, doc)
    terms = "SELECT array_agg(DISTINCT term ORDER BY term) FROM search_top WHERE locale = 'en'"
    first = await pool.fetchval(terms)

    doc["translations"]["en"]["title"] = "Pulmonary valve"
    await publish_revision(pool, outbox, doc, version=1)
    second = await pool.fetchval(terms)
    await editorial.unpublish(pool, outbox, "condition", "only-one", now=NOW)

    assert ("'tricuspid'" in first, "'pulmonari'" in first) == (True, False)
    assert ("'tricuspid'" in second, "'pulmonari'" in second) == (False, True)
    assert await pool.fetchval("SELECT count(*) FROM search_top") == 0
