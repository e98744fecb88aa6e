"""SQL of the partner registry: one function per statement, connection first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from services.logistics.domain.model import (
    Channel,
    Coverage,
    NatsChannel,
    Partner,
    WebhookChannel,
)
from services.runtime.core.db import Connection

_PARTNER = (
    "id, name, kinds, airports, cities, countries, languages, capabilities, priority, active, "
    "channel, webhook_url"
)


def _partner(row: asyncpg.Record) -> Partner:
    return Partner(
        id=row["id"],
        name=row["name"],
        kinds=tuple(row["kinds"]),
        coverage=Coverage(
            airports=tuple(row["airports"]),
            cities=tuple(row["cities"]),
            countries=tuple(row["countries"]),
        ),
        languages=tuple(row["languages"]),
        capabilities=tuple(row["capabilities"]),
        priority=row["priority"],
        active=row["active"],
        channel=(
            WebhookChannel(url=row["webhook_url"]) if row["channel"] == "webhook" else NatsChannel()
        ),
    )


def _channel_args(channel: Channel) -> tuple[str, str | None]:
    if isinstance(channel, WebhookChannel):
        return ("webhook", channel.url)
    return ("nats", None)


def _partner_args(p: Partner) -> tuple[Any, ...]:
    return (
        p.id,
        p.name,
        list(p.kinds),
        list(p.coverage.airports),
        list(p.coverage.cities),
        list(p.coverage.countries),
        list(p.languages),
        list(p.capabilities),
        p.priority,
        p.active,
        *_channel_args(p.channel),
    )


async def insert_partner(conn: Connection, partner: Partner, now: datetime) -> bool:
    """False when a partner with this id exists already."""
    inserted = await conn.fetchval(
        f"""INSERT INTO partners ({_PARTNER}, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
            ON CONFLICT (id) DO NOTHING RETURNING true""",
        *_partner_args(partner),
        now,
    )
    return bool(inserted)


async def upsert_partner(conn: Connection, partner: Partner, now: datetime) -> bool:
    """Create or replace; True when created."""
    created = await conn.fetchval(
        f"""INSERT INTO partners ({_PARTNER}, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kinds = EXCLUDED.kinds,
                airports = EXCLUDED.airports, cities = EXCLUDED.cities,
                countries = EXCLUDED.countries, languages = EXCLUDED.languages,
                capabilities = EXCLUDED.capabilities, priority = EXCLUDED.priority,
                active = EXCLUDED.active, channel = EXCLUDED.channel,
                webhook_url = EXCLUDED.webhook_url, updated_at = EXCLUDED.updated_at
            RETURNING xmax = 0""",
        *_partner_args(partner),
        now,
    )
    return bool(created)


async def get_partner(conn: Connection, partner_id: str) -> Partner | None:
    row = await conn.fetchrow(f"SELECT {_PARTNER} FROM partners WHERE id = $1", partner_id)
    return None if row is None else _partner(row)


async def list_partners(
    conn: Connection, *, kind: str | None, active: bool | None
) -> list[Partner]:
    rows = await conn.fetch(
        f"""SELECT {_PARTNER} FROM partners
            WHERE ($1::text IS NULL OR $1 = ANY(kinds)) AND ($2::boolean IS NULL OR active = $2)
            ORDER BY priority DESC, id""",
        kind,
        active,
    )
    return [_partner(r) for r in rows]


async def set_partner_active(
    conn: Connection, partner_id: str, active: bool, now: datetime
) -> Partner | None:
    row = await conn.fetchrow(
        f"""UPDATE partners SET active = $2, updated_at = $3 WHERE id = $1
            RETURNING {_PARTNER}""",
        partner_id,
        active,
        now,
    )
    return None if row is None else _partner(row)


async def active_partners(conn: Connection, kind: str) -> list[Partner]:
    rows = await conn.fetch(
        f"SELECT {_PARTNER} FROM partners WHERE active AND $1 = ANY(kinds)", kind
    )
    return [_partner(r) for r in rows]


async def webhook_url(conn: Connection, partner_id: str) -> str | None:
    """The partner's webhook URL; None for a NATS partner (or one that does not exist)."""
    return await conn.fetchval(  # type: ignore[no-any-return]
        "SELECT webhook_url FROM partners WHERE id = $1 AND channel = 'webhook'", partner_id
    )
