"""Helpers shared by tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 10.0, interval: float = 0.05
) -> Any:
    """Poll `check` until it returns a truthy value (returned) or raises no AssertionError."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            result = await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
        else:
            if result:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)


async def every_value(db: asyncpg.Connection, schema: str) -> dict[str, str]:
    """Each table of `schema` with its rows as text; bytes as Latin-1, so plain text inside them
    shows. Tables are found, not listed, so a table the schema grows later is searched too."""
    tables = await db.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
    )
    dump = {}
    for table in (r["table_name"] for r in tables):
        rows = await db.fetch(f'SELECT * FROM "{schema}"."{table}"')
        dump[table] = " ".join(
            value.decode("latin-1") if isinstance(value, bytes) else str(value)
            for row in rows
            for value in row.values()
        )
    return dump
