"""Append-only migrations, recorded with checksums and safe to run from several replicas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.runtime.core.migrate import Migration, MigrationError, load_migrations, migrate


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


MIGRATIONS = [
    Migration("demo/0001_things.sql", "CREATE TABLE things (id int PRIMARY KEY);"),
    Migration("demo/0002_more.sql", "ALTER TABLE things ADD COLUMN name text;"),
]


async def test_migrations_apply_once_in_their_schema_and_are_recorded(
    db: asyncpg.Connection,
) -> None:
    first = await migrate(db, "demo", MIGRATIONS)
    second = await migrate(db, "demo", MIGRATIONS)

    assert first == ["demo/0001_things.sql", "demo/0002_more.sql"]
    assert second == []
    columns = await db.fetch(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'demo' AND table_name = 'things' ORDER BY ordinal_position"
    )
    assert [c["column_name"] for c in columns] == ["id", "name"]
    recorded = await db.fetchval("SELECT count(*) FROM demo.schema_migrations")
    assert recorded == 2


async def test_an_edited_applied_migration_is_refused_and_nothing_changes(
    db: asyncpg.Connection,
) -> None:
    await migrate(db, "demo", MIGRATIONS[:1])
    edited = [
        Migration("demo/0001_things.sql", "CREATE TABLE things (id bigint PRIMARY KEY);"),
        MIGRATIONS[1],
    ]

    with pytest.raises(MigrationError, match=r"0001_things\.sql was edited after it was applied"):
        await migrate(db, "demo", edited)

    recorded = await db.fetchval("SELECT count(*) FROM demo.schema_migrations")
    assert recorded == 1, "the later migration must not be applied either"


async def test_a_failing_migration_leaves_the_schema_as_it_was(db: asyncpg.Connection) -> None:
    broken = [*MIGRATIONS, Migration("demo/0003_broken.sql", "ALTER TABLE nowhere ADD x int;")]

    with pytest.raises(asyncpg.UndefinedTableError):
        await migrate(db, "demo", broken)

    assert await db.fetchval("SELECT to_regclass('demo.things')") is None


async def test_replicas_migrating_at_once_apply_each_migration_once(database_url: str) -> None:
    connections = [await asyncpg.connect(database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c, "demo", MIGRATIONS) for c in connections))
    finally:
        for conn in connections:
            await conn.close()

    applied = sorted(name for result in results for name in result)
    assert applied == ["demo/0001_things.sql", "demo/0002_more.sql"]


async def test_invalid_schema_names_are_refused(db: asyncpg.Connection) -> None:
    with pytest.raises(MigrationError, match="invalid schema name"):
        await migrate(db, "demo; DROP TABLE x", MIGRATIONS)


def test_migration_files_must_be_numbered(tmp_path: Path) -> None:
    (tmp_path / "add_things.sql").write_text("SELECT 1;")

    with pytest.raises(MigrationError, match=r"named NNNN_lowercase_name\.sql"):
        load_migrations("demo", tmp_path)


def test_service_migration_folders_hold_only_well_named_files() -> None:
    repo = Path(__file__).resolve().parents[3]
    for folder in repo.glob("services/*/migrations"):
        load_migrations(folder.parent.name, folder)  # raises on a misnamed file
