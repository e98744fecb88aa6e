"""The search is one function (`search_page`, content migration 0008) whose statement the
database plans once per connection, for any values; what it finds is the search of before:
the words as asked, else the words corrected, else nothing. Real PostgreSQL, the store called
directly."""

from __future__ import annotations

import pytest

from services.content.domain.locales import fallback_chain
from services.content.publication import SEARCH_CONFIG
from services.content.store import delivery as store
from services.runtime.core.db import Pool
from services.runtime.messaging.outbox import Outbox
from tests.content_samples import condition
from tests.usecases.content.editing import create_and_publish


@pytest.fixture
async def catalogue(pool: Pool, outbox: Outbox) -> None:
    # Words in the titles alone: the sample's summary and body are the same in every document.
    titles = ["Tricuspid zebrafish", "Pulmonary zebrafish", "Aortic quokka"]
    for n, title in enumerate(titles):
        doc = condition(f"doc-{n}")
        doc["translations"]["en"]["title"] = title
        doc["translations"]["de"]["title"] = title.replace("zebrafish", "Zebrafisch")
        if n == 2:
            del doc["translations"]["de"]  # English only: in a German reader's chain
        await create_and_publish(pool, outbox, doc)


async def slugs(pool: Pool, query: str, locale: str = "en", limit: int = 10) -> list[str]:
    async with pool.acquire() as conn:
        hits = await store.search(
            conn, query=query, locales=fallback_chain(locale), config=SEARCH_CONFIG[locale],
            limit=limit,
        )  # fmt: skip
    return [h.slug for h in hits]


async def test_the_statement_is_planned_for_any_values(pool: Pool) -> None:
    # Planned for each call's values, the statement cost more than running it.
    config = await pool.fetchval("SELECT proconfig FROM pg_proc WHERE proname = 'search_page'")
    assert config == ["plan_cache_mode=force_generic_plan"]


async def test_words_as_asked_then_corrected_then_nothing(pool: Pool, catalogue: None) -> None:
    assert await slugs(pool, "tricuspid") == ["doc-0"]
    # No title holds "tricuspd": corrected to the closest title word.
    assert await slugs(pool, "tricuspd") == ["doc-0"]
    # Nothing to correct a word to, and only stop words: no hits, and no error.
    assert await slugs(pool, "xylophone") == []
    assert await slugs(pool, "the and of") == []
    assert await slugs(pool, "   ") == []


async def test_one_connection_answers_every_kind_of_search_alike(
    pool: Pool, catalogue: None
) -> None:
    """One plan for every call of a connection: the values that choose a branch (one locale or
    a chain, a page size, a typo) still choose it on the tenth call as on the first."""
    expected = {
        ("zebrafish", "en", 10): ["doc-0", "doc-1"],
        ("zebrafish", "en", 1): ["doc-0"],
        ("Zebrafisch", "de", 10): ["doc-0", "doc-1"],
        ("quokka", "de", 10): ["doc-2"],  # English, in a German reader's chain
        ("quoka", "en", 10): ["doc-2"],
    }
    for _ in range(10):
        for (query, locale, limit), found in expected.items():
            assert sorted(await slugs(pool, query, locale, limit)) == found, (query, locale)
