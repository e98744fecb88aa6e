"""SQL of the sites' webhooks: one function per statement, connection first."""

from __future__ import annotations

from datetime import datetime

import msgspec

from services.runtime.core.db import Connection


class SiteWebhookRow(msgspec.Struct, frozen=True, kw_only=True):
    consumer: str
    url: str
    events: tuple[str, ...]
    signing_secret: bytes


_COLUMNS = "consumer, url, events, signing_secret"


async def insert_or_replace(
    conn: Connection,
    *,
    consumer: str,
    url: str,
    events: tuple[str, ...],
    sealed_secret: bytes,
    now: datetime,
) -> bool:
    """True when created; a replacement keeps the secret it had."""
    created = await conn.fetchval(
        """INSERT INTO site_webhooks (consumer, url, events, signing_secret, created_at,
                                      updated_at)
           VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (consumer) DO UPDATE SET url = EXCLUDED.url, events = EXCLUDED.events,
               updated_at = EXCLUDED.updated_at
           RETURNING xmax = 0""",
        consumer,
        url,
        list(events),
        sealed_secret,
        now,
    )
    return bool(created)


async def find(conn: Connection, consumer: str) -> SiteWebhookRow | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM site_webhooks WHERE consumer = $1", consumer)
    return None if row is None else msgspec.convert(dict(row.items()), SiteWebhookRow)


async def delete(conn: Connection, consumer: str) -> bool:
    return bool(
        await conn.fetchval(
            "DELETE FROM site_webhooks WHERE consumer = $1 RETURNING true", consumer
        )
    )


async def subscribed(conn: Connection, event: str) -> list[str]:
    """The consumers whose webhook asks for `event`."""
    rows = await conn.fetch(
        "SELECT consumer FROM site_webhooks WHERE $1 = ANY(events) ORDER BY consumer", event
    )
    return [r["consumer"] for r in rows]
