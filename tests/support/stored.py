"""Everything a test left stored: each table of a schema and each message of a namespace's
streams, as text to search (the no-personal-data tests look for a name anywhere)."""

from __future__ import annotations

import asyncpg
import msgspec
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from services.runtime.messaging.bus import Bus


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


async def stored_messages(
    js: JetStreamContext, stream_prefix: str = ""
) -> list[tuple[str, int, StoredMessage]]:
    """(stream, sequence, message) of every message still stored in the streams whose names
    begin with `stream_prefix`; subjects as stored."""
    messages = []
    for info in await js.streams_info():
        stream = info.config.name or ""
        if not stream.startswith(stream_prefix):
            continue
        for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
            try:
                msg = await js.get_msg(stream, seq)
            except NotFoundError:
                continue  # deleted
            stored = StoredMessage(msg.subject or "", msg.headers or {}, msg.data or b"")
            messages.append((stream, seq, stored))
    return messages


async def every_message(bus: Bus, namespace: str) -> list[StoredMessage]:
    """Every message still stored in every stream of the test's namespace, headers and body."""
    return [
        StoredMessage(bus.unprefix(m.subject), m.headers, m.body)
        for _, _, m in await stored_messages(bus.js, f"{namespace}_")
    ]
