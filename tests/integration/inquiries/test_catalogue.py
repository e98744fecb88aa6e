"""The inquiries service learns which condition pages exist from content events alone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from contracts.content import ContentPublished, ContentUnpublished
from contracts.registry import CONTENT_PUBLISHED, CONTENT_UNPUBLISHED
from services.runtime.core.db import create_pool, transaction
from services.runtime.core.settings import ServiceSettings
from services.runtime.messaging.bus import Bus
from services.runtime.messaging.outbox import Outbox, Relay
from tests.support import eventually

NOW = datetime(2026, 11, 25, tzinfo=UTC)
Announce = Callable[[ContentPublished | ContentUnpublished], Awaitable[None]]


@pytest.fixture
async def running(client: AsyncTestClient[Litestar]) -> None:
    """The inquiries service runs (its consumers with it) while the test publishes."""


@pytest.fixture
async def announce(settings: ServiceSettings) -> AsyncIterator[Announce]:
    """Publish content events the way the content service does: its outbox, its relay."""
    pool = await create_pool(settings.database_url, schema="content", min_size=1, max_size=2)
    bus = await Bus.connect(settings.nats_url, name="content", namespace=settings.nats_namespace)
    outbox = Outbox(source="/carebridge/content", schema="content")

    async def send(event: ContentPublished | ContentUnpublished) -> None:
        channel = CONTENT_PUBLISHED if isinstance(event, ContentPublished) else CONTENT_UNPUBLISHED
        async with transaction(pool) as conn:
            await outbox.emit(conn, channel.subject(kind=event.kind), event)
        await Relay(pool, bus, schema="content", batch_size=10, poll_interval=1).publish_pending()

    yield send
    await bus.close()
    await pool.close()


async def known(database_url: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT slug, revision FROM inquiries.known_conditions ORDER BY slug"
        )
    finally:
        await conn.close()
    return [(r["slug"], r["revision"]) for r in rows]


def published(
    slug: str, revision: int, kind: str = "condition", previous: tuple[str, ...] = ()
) -> ContentPublished:
    return ContentPublished(
        kind=kind,  # type: ignore[arg-type]
        slug=slug,
        locales=("de", "en"),
        revision=revision,
        published_at=NOW,
        previous_slugs=previous,
    )


async def test_published_conditions_become_known_and_unpublished_ones_are_forgotten(
    running: None, announce: Announce, database_url: str
) -> None:
    send = announce
    await send(published("mitral-valve-insufficiency", 1))
    await send(published("mitral-valve-repair", 1, kind="treatment"))
    await send(published("angina", 1))
    await send(
        ContentUnpublished(
            kind="condition", slug="angina", locales=("en",), revision=1, unpublished_at=NOW
        )
    )

    async def settled() -> bool:
        return await known(database_url) == [("mitral-valve-insufficiency", 1)]

    await eventually(settled)


async def test_a_renamed_condition_replaces_its_old_slug_and_late_old_revisions_change_nothing(
    running: None, announce: Announce, database_url: str
) -> None:
    send = announce
    await send(published("mitral-valve-insufficiency", 1))
    await send(published("mitral-regurgitation", 2, previous=("mitral-valve-insufficiency",)))
    await send(published("mitral-regurgitation", 1))  # arrives late

    async def settled() -> bool:
        return await known(database_url) == [("mitral-regurgitation", 2)]

    await eventually(settled)
