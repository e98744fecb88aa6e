"""asyncpg pool lifecycle and the one way to open a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, TypeAlias

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
    )
    if pool is None:  # only when called in a non-awaiting way, which this module never does
        raise RuntimeError("asyncpg returned no pool")
    return pool


@asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[Connection]:
    """Commit when the block ends normally, roll back when it raises."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn
