"""The seed content, loaded as `make run` loads it: every document published, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.content.domain.documents import kind_of
from services.content.usecases.seeding import load_seed_documents, seed_content
from services.runtime.core.db import Pool, create_pool
from services.runtime.messaging.outbox import Outbox

Client = AsyncTestClient[Litestar]
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, schema="content", min_size=1, max_size=4)
    yield pool
    await pool.close()


OUTBOX = Outbox(source="/carebridge/content", schema="content")


async def test_every_seed_document_is_published_once(pool: Pool) -> None:
    first = await seed_content(pool, OUTBOX, now=NOW, review_required=False)
    again = await seed_content(pool, OUTBOX, now=NOW, review_required=False)

    expected = len(load_seed_documents())
    assert (first.created, first.published, first.refused) == (expected, expected, {})
    assert (again.created, again.published) == (0, 0)
    assert await pool.fetchval("SELECT count(*) FROM published") == expected


async def test_the_seeded_mitral_page_is_served_in_german_and_found_by_search(
    pool: Pool, client: Client
) -> None:
    await seed_content(pool, OUTBOX, now=NOW, review_required=False)

    page = await client.get("/v1/conditions/mitral-valve-insufficiency?locale=de")
    found = await client.get("/v1/search?q=Mitralklappeninsuffizienz Ursachen&locale=de")
    typo = await client.get("/v1/search?q=mitral insuficiency&locale=en")
    listed = await client.get("/v1/conditions?specialty=cardiology&limit=100")

    assert page.status_code == 200
    assert page.json()["title"] == "Mitralklappeninsuffizienz"
    assert page.json()["icd10"] == ["I34.0", "I34.1", "I05.1", "Q23.3"]
    assert found.json()["items"][0]["slug"] == "mitral-valve-insufficiency"
    assert typo.json()["items"][0]["slug"] == "mitral-valve-insufficiency"
    assert len(listed.json()["items"]) >= 4


async def test_the_seed_reads_unreviewed_and_claims_no_reviewer(pool: Pool, client: Client) -> None:
    await seed_content(pool, OUTBOX, now=NOW, review_required=False)

    for path in (
        "/v1/conditions/mitral-valve-insufficiency",
        "/v1/treatments/transcatheter-edge-to-edge-repair",
    ):
        page = await client.get(path)
        ld = await client.get(path, headers={"Accept": "application/ld+json"})

        assert page.status_code == ld.status_code == 200, path
        assert page.json()["trust"]["review"] == {
            "status": "unreviewed",
            "reviewed_by": None,
            "reviewed_at": None,
            "next_review_due": None,
        }
        assert "reviewedBy" not in ld.json()
        assert "lastReviewed" not in ld.json()
    listed = await client.get("/v1/conditions?fields=trust&limit=100")
    assert {item["trust"]["review"]["status"] for item in listed.json()["items"]} == {"unreviewed"}


async def test_where_review_is_required_the_seed_stays_as_drafts(pool: Pool) -> None:
    report = await seed_content(pool, OUTBOX, now=NOW, review_required=True)

    medical = [d for d in load_seed_documents() if kind_of(d) in ("condition", "treatment")]
    assert report.published == len(load_seed_documents()) - len(medical)
    assert sorted(report.refused) == sorted(d.slug for d in medical)
    assert all("medical sign-off" in reason for reason in report.refused.values())
    assert await pool.fetchval("SELECT count(*) FROM published WHERE kind <> 'service'") == 0
