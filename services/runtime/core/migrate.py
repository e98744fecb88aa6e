"""Append-only SQL migrations per schema, applied under one advisory lock and recorded with a
checksum, so replicas starting together are safe and an edited, already-applied file is refused."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import structlog

from services.runtime.core.db import Connection

log = structlog.get_logger(__name__)

# One lock for all schemas: migrations also create shared objects (extensions).
_LOCK_KEY = 0x43425F4D4947  # "CB_MIG"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_FILENAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")

RUNTIME_MIGRATIONS = Path(__file__).parents[1] / "migrations"


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(source: str, folder: Path) -> list[Migration]:
    """Read `folder`'s NNNN_name.sql files in order; `source` prefixes their recorded names."""
    files = sorted(folder.glob("*.sql")) if folder.is_dir() else []
    for path in files:
        if not _FILENAME.match(path.name):
            raise MigrationError(f"{path}: migration files are named NNNN_lowercase_name.sql")
    return [Migration(f"{source}/{p.name}", p.read_text()) for p in files]


async def migrate(conn: Connection, schema: str, migrations: list[Migration]) -> list[str]:
    """Apply the migrations not yet recorded in `schema`; returns the names applied now."""
    if not _IDENTIFIER.match(schema):
        raise MigrationError(f"invalid schema name {schema!r}")
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                    name text PRIMARY KEY,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = await conn.fetch(f"SELECT name, checksum FROM {schema}.schema_migrations")
        recorded = {r["name"]: r["checksum"] for r in rows}
        await conn.execute(f"SET LOCAL search_path = {schema}, public")
        for migration in migrations:
            checksum = recorded.get(migration.name)
            if checksum is not None:
                if checksum != migration.checksum:
                    raise MigrationError(
                        f"{schema}: {migration.name} was edited after it was applied; "
                        "migrations are append-only, add a new file instead"
                    )
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                f"INSERT INTO {schema}.schema_migrations (name, checksum) VALUES ($1, $2)",
                migration.name,
                migration.checksum,
            )
            applied_now.append(migration.name)
    if applied_now:
        log.info("migrations applied", schema=schema, migrations=applied_now)
    return applied_now
