"""The suite's own databases (tests/support/databases.py): a database goes to a later test only
as the template has it, and one that cannot be put back so is dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.support.databases import DatabasePool


@pytest.fixture
async def pool(postgres_admin_url: str, template_database: str) -> AsyncIterator[DatabasePool]:
    """A pool of the test's own, apart from the worker's."""
    pool = DatabasePool(postgres_admin_url, template_database)
    yield pool
    await pool.close()


async def exists(pool: DatabasePool, name: str) -> bool:
    admin = await asyncpg.connect(pool.admin_url)
    try:
        return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


async def what_a_test_sees(conn: asyncpg.Connection) -> tuple[object, ...]:
    return (
        await conn.fetchval("SELECT count(*) FROM content.documents"),
        await conn.fetchval("SELECT count(*) FROM inquiries.schema_migrations"),
        await conn.fetch("SELECT priority, acknowledge_within_seconds FROM support.policies"),
        await conn.fetchval("SELECT nextval('inquiries.timeline_id_seq')"),
    )


async def test_a_used_database_comes_back_as_the_template_has_it(pool: DatabasePool) -> None:
    first = await pool.take()
    conn = await asyncpg.connect(pool.url(first))
    fresh = await what_a_test_sees(conn)
    # What a test leaves: rows of its own, template rows changed and gone, a sequence moved on.
    await conn.execute(
        """
        INSERT INTO content.documents (id, kind, slug, version, draft, created_at, updated_at)
        VALUES (gen_random_uuid(), 'condition', 'left-behind', 1, '{}', now(), now());
        UPDATE support.policies SET acknowledge_within_seconds = 1;
        DELETE FROM inquiries.schema_migrations WHERE name LIKE '%0010%';
        SELECT nextval('inquiries.timeline_id_seq') FROM generate_series(1, 5);
        """
    )
    await conn.close()
    await pool.give_back(first)

    again = await pool.take()
    conn = await asyncpg.connect(pool.url(again))
    try:
        assert again == first
        assert (pool.created, pool.reused) == (1, 1)
        assert await what_a_test_sees(conn) == fresh
    finally:
        await conn.close()


async def test_a_database_whose_catalogue_a_test_changed_is_dropped(pool: DatabasePool) -> None:
    first = await pool.take()
    conn = await asyncpg.connect(pool.url(first))
    await conn.execute("CREATE TABLE public.left_behind (n int)")
    await conn.close()
    await pool.give_back(first)

    assert not await exists(pool, first)
    assert await pool.take() != first


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE content.documents ADD COLUMN extra text",
        "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "REVOKE ALL ON content.documents FROM PUBLIC; GRANT SELECT ON content.documents TO PUBLIC",
        "ALTER TABLE content.documents DISABLE TRIGGER ALL",
        "CREATE SCHEMA demo",
    ],
)
async def test_every_kind_of_catalogue_change_is_seen(pool: DatabasePool, change: str) -> None:
    first = await pool.take()
    conn = await asyncpg.connect(pool.url(first))
    await conn.execute(change)
    await conn.close()
    await pool.give_back(first)

    assert not await exists(pool, first)


async def test_a_database_someone_is_still_connected_to_is_dropped(pool: DatabasePool) -> None:
    first = await pool.take()
    # A service a test left running: it would write into the next test's rows.
    lingering = await asyncpg.connect(pool.url(first))
    try:
        await pool.give_back(first)
        assert lingering.is_closed() or not await exists(pool, first)
    finally:
        await lingering.close()

    assert not await exists(pool, first)
    assert pool.free == []
