"""The public read queries on a real PostgreSQL, called directly: keyset pages, the sync feed,
and bad parameters refused before anything is read."""

from __future__ import annotations

import pytest

from services.content.cache import DocumentCache
from services.content.usecases import delivery, editorial
from services.content.usecases.delivery import Moved
from services.content.usecases.editorial import decode_document
from services.runtime.core.db import Pool
from services.runtime.core.errors import BadRequest
from services.runtime.messaging.outbox import Outbox
from tests.content_samples import condition
from tests.usecases.content.editing import NOW, create_and_publish, publish_revision

SLUGS = ("angina", "endocarditis", "mitral-valve-insufficiency")


@pytest.fixture
async def published(pool: Pool, outbox: Outbox) -> None:
    for slug in SLUGS:
        await create_and_publish(pool, outbox, condition(slug))


async def page(pool: Pool, cursor: str | None, sort: str = "slug") -> delivery.Listing:
    return await delivery.list_documents(
        pool,
        kind="condition",
        locale="en",
        limit=2,
        cursor=cursor,
        sort=sort,  # type: ignore[arg-type]
        specialty=None,
        tag=None,
        updated_since=None,
        fields="title",
        include=None,
        now=NOW,
    )


async def test_a_list_pages_on_with_its_cursor_and_selects_fields(
    pool: Pool, published: None
) -> None:
    first = await page(pool, None)
    assert first.next_cursor is not None
    second = await page(pool, first.next_cursor)

    assert [i["slug"] for i in first.items + second.items] == list(SLUGS)
    assert second.next_cursor is None
    assert set(first.items[0]) == {"kind", "slug", "title"}


async def test_a_cursor_of_another_sort_is_refused(pool: Pool, published: None) -> None:
    first = await page(pool, None, sort="slug")

    with pytest.raises(BadRequest) as refused:
        await page(pool, first.next_cursor, sort="-slug")

    assert [p.field for p in refused.value.problems] == ["cursor"]


async def test_sync_gives_a_snapshot_then_only_what_changed(
    pool: Pool, outbox: Outbox, published: None
) -> None:
    snapshot = await delivery.sync(pool, None)
    await editorial.unpublish(pool, outbox, "condition", "angina", now=NOW)

    delta = await delivery.sync(pool, snapshot.token)

    assert snapshot.full
    assert sorted(p.slug for p in snapshot.published) == list(SLUGS)
    assert (delta.full, delta.published, [r.slug for r in delta.removed]) == (
        False,
        [],
        ["angina"],
    )


async def test_a_read_is_cached_until_invalidated_and_an_old_slug_is_moved(
    pool: Pool, outbox: Outbox, published: None
) -> None:
    cache = DocumentCache()
    read = {"kind": "condition", "locale": "en", "representation": "json", "fields": None,
            "include": None, "now": NOW}  # fmt: skip

    entry = await delivery.read_document(pool, cache, slug="angina", **read)  # type: ignore[arg-type]
    renamed = decode_document(condition("stable-angina"))
    await editorial.save_draft(
        pool, "condition", "angina", renamed, author="Eva", expected_version=1, now=NOW
    )
    await editorial.publish(
        pool,
        outbox,
        "condition",
        "stable-angina",
        at=None,
        expected_version=2,
        review_required=False,
        now=NOW,
    )
    cached = await delivery.read_document(pool, cache, slug="angina", **read)  # type: ignore[arg-type]
    cache.invalidate("condition", {"angina", "stable-angina"})
    moved = await delivery.read_document(pool, cache, slug="angina", **read)  # type: ignore[arg-type]

    assert cached is entry
    assert moved == Moved(slug="stable-angina")


async def test_a_read_that_is_not_kept_is_compressed_only_in_the_coding_it_is_sent_in(
    pool: Pool, outbox: Outbox
) -> None:
    long_read = condition("long-read")
    long_read["translations"]["en"]["summary"] = "The valve leaks back. " * 100
    await create_and_publish(pool, outbox, long_read)
    cache = DocumentCache()
    read = {"kind": "condition", "slug": "long-read", "locale": "en", "representation": "json",
            "include": None, "now": NOW, "codings": ("zstd", "br", "gzip", "identity")}  # fmt: skip

    selected = await delivery.read_document(pool, cache, fields="title,summary", **read)  # type: ignore[arg-type]
    kept = await delivery.read_document(pool, cache, fields=None, **read)  # type: ignore[arg-type]

    assert set(selected.variants) == {"identity", "zstd"}  # type: ignore[union-attr]
    assert set(kept.variants) == {"identity", "br", "zstd", "gzip"}  # type: ignore[union-attr]


async def test_a_list_item_has_the_title_and_summary_of_the_readers_locale_as_published(
    pool: Pool, outbox: Outbox
) -> None:
    """The texts of a list item come from `summaries` (content migration 0010), which the
    database keeps from the rendered document: after a new revision, the new texts."""
    doc = condition("angina")
    doc["translations"]["de"]["title"] = "Angina pectoris"
    doc["translations"]["de"]["summary"] = "Brustenge bei Belastung."
    await create_and_publish(pool, outbox, doc)

    async def listed(locale: str) -> dict[str, object]:
        listing = await delivery.list_documents(
            pool, kind="condition", locale=locale, limit=10, cursor=None, sort="slug",
            specialty=None, tag=None, updated_since=None, fields=None, include=None, now=NOW,
        )  # fmt: skip
        (item,) = listing.items
        return {k: item[k] for k in ("title", "summary", "locale")}

    english = doc["translations"]["en"]
    assert await listed("en") == {
        "title": english["title"], "summary": english["summary"], "locale": "en"
    }  # fmt: skip
    assert await listed("de") == {
        "title": "Angina pectoris", "summary": "Brustenge bei Belastung.", "locale": "de"
    }  # fmt: skip

    doc["translations"]["de"]["summary"] = "Enge in der Brust."
    await publish_revision(pool, outbox, doc, version=1)

    assert (await listed("de"))["summary"] == "Enge in der Brust."
