"""Sync in pages: a full pass and a delta each come `limit` documents at a time, the pages of a
pass chained by their tokens, and a mirror that applies them in order ends equal to the
catalogue even when documents are published and withdrawn in the middle of a pass. Real
PostgreSQL, the use case called directly."""

from __future__ import annotations

import pytest

from services.content.usecases import delivery, editorial
from services.runtime.core.db import Pool
from services.runtime.core.errors import BadRequest
from services.runtime.messaging.outbox import Outbox
from tests.content_samples import condition
from tests.usecases.content.editing import NOW, create_and_publish
from tests.usecases.content.test_gap_free_sync import Mirror, published_slugs

SLUGS = [f"condition-{i}" for i in range(7)]


@pytest.fixture
async def catalogue(pool: Pool, outbox: Outbox) -> None:
    for slug in SLUGS:
        await create_and_publish(pool, outbox, condition(slug))


async def test_a_full_pass_comes_in_pages_in_id_order_and_only_its_first_starts_over(
    pool: Pool, catalogue: None
) -> None:
    pages = [await delivery.sync(pool, None, limit=3)]
    while pages[-1].more:
        pages.append(await delivery.sync(pool, pages[-1].token, limit=3))

    assert [len(p.published) for p in pages] == [3, 3, 1]
    assert [p.full for p in pages] == [True, False, False]
    ids = [d.document_id for p in pages for d in p.published]
    assert ids == sorted(ids)
    assert {d.slug for p in pages for d in p.published} == set(SLUGS)
    # The last page's token holds the whole pass: nothing comes again from it.
    after = await delivery.sync(pool, pages[-1].token, limit=3)
    assert (after.published, after.removed, after.more) == ([], [], False)


async def test_a_pass_exactly_a_page_long_ends_on_that_page(pool: Pool, catalogue: None) -> None:
    first = await delivery.sync(pool, None, limit=len(SLUGS))

    assert (len(first.published), first.more) == (len(SLUGS), False)


async def test_a_pass_of_an_empty_catalogue_is_one_empty_page(pool: Pool) -> None:
    first = await delivery.sync(pool, None, limit=3)

    assert (first.full, first.published, first.more) == (True, [], False)


async def test_what_is_published_and_withdrawn_during_a_pass_reaches_the_mirror(
    pool: Pool, outbox: Outbox, catalogue: None
) -> None:
    mirror = Mirror(limit=2)
    await mirror.follow(pool)
    assert mirror.more
    # Between two pages: one document withdrawn, one changed, two new ones (their ids fall
    # anywhere in the order: before or after the page the pass has reached).
    withdrawn = next(iter(mirror.documents))
    await editorial.unpublish(pool, outbox, "condition", withdrawn, now=NOW)
    for slug in ("condition-new-a", "condition-new-b"):
        await create_and_publish(pool, outbox, condition(slug))
    while mirror.more:
        await mirror.follow(pool)
    # The pass is done; the next sync, from its last token, brings what it could not see.
    await mirror.catch_up(pool)

    assert set(mirror.documents) == await published_slugs(pool)
    assert withdrawn not in mirror.documents
    assert {"condition-new-a", "condition-new-b"} <= set(mirror.documents)


async def test_a_large_delta_comes_in_pages_and_holds_each_change_once(
    pool: Pool, outbox: Outbox, catalogue: None
) -> None:
    mirror = Mirror(limit=100)
    await mirror.catch_up(pool)
    caught_up = mirror.token
    fresh = [f"condition-later-{i}" for i in range(5)]
    for slug in fresh:
        await create_and_publish(pool, outbox, condition(slug))
    await editorial.unpublish(pool, outbox, "condition", SLUGS[0], now=NOW)

    pages = [await delivery.sync(pool, caught_up, limit=2)]
    # Published while the delta is being paged: not in this delta (it reads toward the
    # snapshot of its first page), in the next one.
    await create_and_publish(pool, outbox, condition("condition-during"))
    while pages[-1].more:
        pages.append(await delivery.sync(pool, pages[-1].token, limit=2))

    assert not any(p.full for p in pages)
    assert [len(p.published) + len(p.removed) for p in pages] == [2, 2, 2]
    assert sorted(d.slug for p in pages for d in p.published) == sorted(fresh)
    assert [c.slug for p in pages for c in p.removed] == [SLUGS[0]]
    following = await delivery.sync(pool, pages[-1].token, limit=2)
    assert [d.slug for d in following.published] == ["condition-during"]
    assert not following.more


async def test_a_page_token_altered_by_hand_is_refused_naming_the_token(
    pool: Pool, catalogue: None
) -> None:
    first = await delivery.sync(pool, None, limit=3)
    token = first.token
    altered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    with pytest.raises(BadRequest) as refused:
        await delivery.sync(pool, altered, limit=3)
    assert refused.value.problems[0].field == "token"
