"""What the operator commands (staff tokens, API keys) share: which database they act on, and
how a failure is said."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from deploy.stack.files import DEFAULT_DATA_DIR, StackPaths, read_json


class CommandError(Exception):
    """What went wrong, said for the operator; the command exits 1."""


def database_url(environ: Mapping[str, str]) -> str:
    """DATABASE_URL, or else the running local stack's (its stack.json)."""
    if environ.get("DATABASE_URL"):
        return environ["DATABASE_URL"]
    manifest = read_json(StackPaths(DEFAULT_DATA_DIR).manifest)
    if manifest is None or not manifest.get("database_url"):
        raise CommandError("set DATABASE_URL, or start the local stack with `make run` first")
    return str(manifest["database_url"])


def execute(command: Coroutine[Any, Any, None]) -> int:
    """Run one command to its exit status, saying any failure in one line on stderr."""
    try:
        asyncio.run(command)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"error: cannot reach the database: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


@asynccontextmanager
async def connection(url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """One connection for one command, closed whatever happens."""
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


def when(moment: datetime | None) -> str:
    """A time as listings show it; "-" for none."""
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"
