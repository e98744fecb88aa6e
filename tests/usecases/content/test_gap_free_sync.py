"""Sync loses nothing while content is published concurrently: a change whose transaction took
its place in the log early but commits late (after a mirror read past it) still reaches the
mirror, on a later page. Real PostgreSQL; the late commits are made by a trigger that makes
the transactions that write a change wait (a lock the test holds, or a random pause)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.content.usecases import delivery
from services.runtime.core.db import Pool, create_pool
from services.runtime.core.errors import BadRequest
from services.runtime.messaging.outbox import Outbox
from tests.content_samples import condition
from tests.support import eventually
from tests.usecases.content.editing import create_and_publish

# The advisory lock a change for a slug named "slow-*" waits for, before its transaction ends.
SLOW_LOCK = 917_017


@pytest.fixture
async def wide_pool(database_url: str) -> AsyncIterator[Pool]:
    """Enough connections for many publishing transactions and a mirror at once."""
    pool = await create_pool(database_url, schema="content", min_size=2, max_size=12)
    yield pool
    await pool.close()


async def delay_changes(database_url: str, pause: str) -> None:
    """Install a trigger that runs `pause` (SQL) after each change row is written, inside the
    publishing transaction: its seq and xid are taken, its commit comes later."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            f"""CREATE FUNCTION content.delay_change() RETURNS trigger AS $$
                BEGIN {pause}; RETURN NEW; END $$ LANGUAGE plpgsql;
                CREATE TRIGGER delay_change AFTER INSERT ON content.changes
                FOR EACH ROW EXECUTE FUNCTION content.delay_change();"""
        )
    finally:
        await conn.close()


class Mirror:
    """A site's copy of the published documents, kept by following the sync feed a page at a
    time (`limit` documents a page)."""

    def __init__(self, limit: int = delivery.SYNC_PAGE) -> None:
        self.documents: dict[str, int] = {}
        self.token: str | None = None
        self.pages = 0
        self.limit = limit
        self.more = False

    async def follow(self, pool: Pool) -> None:
        synced = await delivery.sync(pool, self.token, limit=self.limit)
        if synced.full:
            self.documents = {}
        for doc in synced.published:
            self.documents[doc.slug] = doc.revision
        for gone in synced.removed:
            self.documents.pop(gone.slug, None)
        self.token = synced.token
        self.more = synced.more
        self.pages += 1

    async def catch_up(self, pool: Pool) -> None:
        """Pages until the pass ends."""
        await self.follow(pool)
        while self.more:
            await self.follow(pool)


async def published_slugs(pool: Pool) -> set[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT slug FROM published")
    return {r["slug"] for r in rows}


@pytest.mark.timeout(60)
async def test_a_change_committed_after_a_later_one_still_reaches_the_mirror(
    wide_pool: Pool, outbox: Outbox, database_url: str
) -> None:
    await delay_changes(
        database_url,
        f"IF NEW.slug LIKE 'slow-%' THEN PERFORM pg_advisory_xact_lock({SLOW_LOCK}); END IF",
    )
    mirror = Mirror()
    await mirror.follow(wide_pool)
    holder = await asyncpg.connect(database_url)
    try:
        await holder.execute(f"SELECT pg_advisory_lock({SLOW_LOCK})")
        # The slow publish writes its change first (the lower seq), then waits to commit.
        slow = asyncio.create_task(create_and_publish(wide_pool, outbox, condition("slow-one")))

        async def waiting() -> bool:
            return bool(
                await holder.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
            )

        await eventually(waiting)
        await create_and_publish(wide_pool, outbox, condition("fast-one"))
        # The mirror reads while the slow change is still uncommitted: the fast one (a higher
        # seq, committed) must not move the mirror's position past the slow one.
        await mirror.follow(wide_pool)
        await holder.execute(f"SELECT pg_advisory_unlock({SLOW_LOCK})")
        await slow
    finally:
        await holder.close()

    for _ in range(3):
        await mirror.follow(wide_pool)
    assert set(mirror.documents) == {"slow-one", "fast-one"}


@pytest.mark.timeout(120)
async def test_a_mirror_following_sync_while_many_transactions_publish_misses_nothing(
    wide_pool: Pool, outbox: Outbox, database_url: str
) -> None:
    # Each publishing transaction pauses up to 30 ms after writing its change: commits come out
    # of seq order all the time.
    await delay_changes(database_url, "PERFORM pg_sleep(random() * 0.03)")
    slugs = [f"condition-{i:03d}" for i in range(60)]
    # Small pages: passes of several pages while the catalogue changes under them.
    mirror = Mirror(limit=7)
    publishing = True

    async def publish_all() -> None:
        nonlocal publishing
        limit = asyncio.Semaphore(8)

        async def one(slug: str) -> None:
            async with limit:
                await create_and_publish(wide_pool, outbox, condition(slug))

        try:
            await asyncio.gather(*(one(s) for s in slugs))
        finally:
            publishing = False

    async def follow_all() -> None:
        while publishing:
            await mirror.follow(wide_pool)

    await asyncio.gather(publish_all(), follow_all())
    # Everything has committed: a pass or two brings the mirror level, without a full resync.
    for _ in range(2):
        await mirror.catch_up(wide_pool)

    assert mirror.pages > 10, "the mirror must have read while publishing went on"
    assert set(mirror.documents) == set(slugs) == await published_slugs(wide_pool)


async def test_a_token_not_issued_by_the_api_is_refused(wide_pool: Pool) -> None:
    with pytest.raises(BadRequest):
        await delivery.sync(wide_pool, "eGlkOng")  # "xid:x"


async def test_open_transactions_hold_no_page_back_and_no_change_comes_twice(
    wide_pool: Pool, outbox: Outbox, database_url: str
) -> None:
    # A transaction open since before the publish, in this database or another on the same
    # server (another tenant, a test beside): the page is the snapshot's, not a horizon's.
    elsewhere = await asyncpg.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    here = await asyncpg.connect(database_url)
    try:
        opened = [elsewhere.transaction(), here.transaction()]
        for conn, transaction in zip((elsewhere, here), opened, strict=True):
            await transaction.start()
            await conn.fetchval("SELECT pg_current_xact_id()")  # takes a transaction id
        mirror = Mirror()
        await mirror.follow(wide_pool)
        await create_and_publish(wide_pool, outbox, condition("beside-open-ones"))

        await mirror.follow(wide_pool)
        assert "beside-open-ones" in mirror.documents
        # The next page from that token holds nothing again: the change came once.
        again = await delivery.sync(wide_pool, mirror.token)
        assert (again.published, again.removed) == ([], [])
        for transaction in opened:
            await transaction.rollback()
    finally:
        await elsewhere.close()
        await here.close()
