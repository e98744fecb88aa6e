"""Helpers shared by tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import msgspec
from nats.js.errors import NotFoundError

from deploy.embedded import free_port
from services.runtime.messaging.bus import Bus


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


class StoredMessage(msgspec.Struct, frozen=True):
    subject: str
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return f"{self.headers} {self.body.decode()}"


async def every_message(bus: Bus, namespace: str) -> list[StoredMessage]:
    """Every message still stored in every stream of the test's namespace, headers and body."""
    messages = []
    for info in await bus.js.streams_info():
        stream = info.config.name or ""
        if not stream.startswith(f"{namespace}_"):
            continue
        for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
            try:
                msg = await bus.js.get_msg(stream, seq)
            except NotFoundError:
                continue  # deleted
            messages.append(
                StoredMessage(bus.unprefix(msg.subject or ""), msg.headers or {}, msg.data or b"")
            )
    return messages


def own_metrics_port() -> dict[str, str]:
    """Settings that give one service a metrics listener of its own."""
    return {"METRICS_PORT": str(free_port())}


async def metrics_page(client: Any) -> str:
    """The metrics page of the service a test client runs, read from its metrics listener (the
    API port never serves it)."""
    port = client.app.state.runtime.metrics_port
    assert port is not None, "the service has no metrics listener"
    async with httpx.AsyncClient(timeout=5.0) as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    response.raise_for_status()
    return response.text
