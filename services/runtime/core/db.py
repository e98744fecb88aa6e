"""asyncpg pool lifecycle and the one way to open a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

if TYPE_CHECKING:
    # Statement functions take either a plain connection or one borrowed from the pool.
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
else:
    Connection = asyncpg.Connection | PoolConnectionProxy
    Pool = asyncpg.Pool


async def create_pool(dsn: str, *, schema: str, min_size: int, max_size: int) -> Pool:
    """A pool whose connections resolve unqualified names in the service's own schema first."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": f"{schema},public", "application_name": schema},
        reset=keep_session,
    )
    if pool is None:  # only when called in a non-awaiting way, which this module never does
        raise RuntimeError("asyncpg returned no pool")
    return pool


async def keep_session(conn: asyncpg.Connection[Any]) -> None:
    """What a connection going back to the pool needs undone: nothing. asyncpg's default sends
    `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` on every release, a
    round trip per request, to undo session state that this code never leaves on a pooled
    connection: its locks are transaction-scoped (`pg_advisory_xact_lock`), its settings `SET
    LOCAL`, and the relay LISTENs on a connection of its own. A transaction left open is still
    rolled back, and listeners dropped, by asyncpg before this is called.
    tests/integration/runtime/test_db.py holds the rule."""
    del conn


@asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[Connection]:
    """Commit when the block ends normally, roll back when it raises."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn
