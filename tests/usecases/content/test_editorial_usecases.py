"""Editorial use cases on a real PostgreSQL, called directly: what each stores and announces in
its one transaction, and that a refused command leaves everything as it was."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from contracts.content import ContentPublished, content_event_decoder
from contracts.registry import CONTENT_PUBLISHED, CONTENT_UNPUBLISHED
from services.content.store import delivery as delivery_store
from services.content.usecases import editorial
from services.content.usecases.editorial import decode_document
from services.runtime.core.db import Pool
from services.runtime.core.errors import Conflict, Invalid, PreconditionFailed
from services.runtime.messaging.outbox import Outbox
from tests.content_samples import condition
from tests.usecases.content.editing import NOW, create_and_publish

SLUG = "mitral-valve-insufficiency"


async def everything(pool: Pool) -> dict[str, Any]:
    """Every table a command may write, as it stands."""
    async with pool.acquire() as conn:
        return {
            table: [dict(r) for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")]
            for table in (
                "documents",
                "revisions",
                "published",
                "slug_redirects",
                "search_entries",
                "changes",
                "outbox",
            )
        }


async def announced(pool: Pool) -> list[tuple[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT subject, payload FROM outbox ORDER BY seq")
    return [(r["subject"], content_event_decoder.decode(r["payload"])) for r in rows]


async def test_publishing_stores_the_document_its_change_and_its_event_together(
    pool: Pool, outbox: Outbox
) -> None:
    await editorial.create_document(pool, decode_document(condition()), author="Eva", now=NOW)

    record = await editorial.publish(
        pool,
        outbox,
        "condition",
        SLUG,
        at=None,
        expected_version=None,
        review_required=False,
        now=NOW,
    )

    async with pool.acquire() as conn:
        served = await delivery_store.find_published(conn, "condition", SLUG)
        changes = await delivery_store.changes_unseen(conn, seen=None, limit=10)
    assert (record.published_revision, record.published_at) == (1, NOW)
    assert served is not None
    assert served.revision == 1
    assert [(c.action, c.revision) for c in changes] == [("published", 1)]
    [(subject, event)] = await announced(pool)
    assert subject.endswith(CONTENT_PUBLISHED.subject(kind="condition"))
    assert isinstance(event, ContentPublished)
    assert (event.slug, event.revision, event.published_at) == (SLUG, 1, NOW)


async def test_a_renamed_document_redirects_its_old_slug_and_names_it_in_the_event(
    pool: Pool, outbox: Outbox
) -> None:
    await create_and_publish(pool, outbox, condition())
    renamed = decode_document(condition("mitral-regurgitation"))
    await editorial.save_draft(
        pool, "condition", SLUG, renamed, author="Eva", expected_version=1, now=NOW
    )

    await editorial.publish(
        pool,
        outbox,
        "condition",
        "mitral-regurgitation",
        at=None,
        expected_version=2,
        review_required=False,
        now=NOW,
    )

    async with pool.acquire() as conn:
        target = await delivery_store.redirect_target(conn, "condition", SLUG)
    assert target == "mitral-regurgitation"
    events = [event for _, event in await announced(pool)]
    assert [e.previous_slugs for e in events] == [(), (SLUG,)]


async def test_a_document_that_may_not_be_published_changes_nothing(
    pool: Pool, outbox: Outbox
) -> None:
    broken = decode_document(condition(icd10=[], related_treatments=["mitral-valve-repair"]))
    await editorial.create_document(pool, broken, author="Eva", now=NOW)
    before = await everything(pool)

    with pytest.raises(Invalid) as refused:
        await editorial.publish(
            pool,
            outbox,
            "condition",
            SLUG,
            at=None,
            expected_version=None,
            review_required=False,
            now=NOW,
        )
    with pytest.raises(Invalid):
        await editorial.publish(
            pool, outbox, "condition", SLUG, at=NOW + timedelta(days=1), expected_version=None,
            review_required=False, now=NOW,
        )  # fmt: skip

    assert sorted(p.field for p in refused.value.problems) == ["icd10", "related_treatments"]
    assert await everything(pool) == before


async def test_a_save_over_a_version_edited_since_changes_nothing(
    pool: Pool, outbox: Outbox
) -> None:
    doc = decode_document(condition())
    await editorial.create_document(pool, doc, author="Eva", now=NOW)
    await editorial.save_draft(
        pool, "condition", SLUG, doc, author="Eva", expected_version=1, now=NOW
    )
    before = await everything(pool)

    with pytest.raises(PreconditionFailed):
        await editorial.save_draft(
            pool, "condition", SLUG, doc, author="Max", expected_version=1, now=NOW
        )

    assert await everything(pool) == before


async def test_unpublishing_a_draft_is_refused_and_changes_nothing(
    pool: Pool, outbox: Outbox
) -> None:
    await editorial.create_document(pool, decode_document(condition()), author="Eva", now=NOW)
    before = await everything(pool)

    with pytest.raises(Conflict, match="is not published"):
        await editorial.unpublish(pool, outbox, "condition", SLUG, now=NOW)

    assert await everything(pool) == before


async def test_unpublishing_removes_the_document_and_announces_it(
    pool: Pool, outbox: Outbox
) -> None:
    await create_and_publish(pool, outbox, condition())

    record = await editorial.unpublish(pool, outbox, "condition", SLUG, now=NOW)

    async with pool.acquire() as conn:
        served = await delivery_store.find_published(conn, "condition", SLUG)
    assert (record.published_revision, served) == (None, None)
    subjects = [subject for subject, _ in await announced(pool)]
    assert subjects[-1].endswith(CONTENT_UNPUBLISHED.subject(kind="condition"))
